import ResilientPostgres
import ResilientPostgresTesting
import Testing
import TestSupport

/// Batches and cached statements on a double that neither pipelines nor prepares: the client's decisions are the same.
@Suite("Batches and statement caching", .capturingLogs)
struct BatchAndCachingTests {
    static let debit: [PostgresQuery] = [
        "UPDATE accounts SET balance = balance - \(100) WHERE id = \(1)",
        "UPDATE accounts SET balance = balance + \(100) WHERE id = \(2)",
    ]

    @Test func batchIsRunAgainWholeAfterASerializationFailure() async throws {
        let database = ScriptedDatabase()
        database.answer("UPDATE accounts", with: .updated(1))
        database.fail("UPDATE accounts SET balance = balance + ", with: .serializationFailure)
        let client = PostgresClient.testing(database)

        let batch = Task { try await client.batch(Self.debit) }
        let backoff = try await database.clock.nextSleep()
        database.clock.advance(to: backoff.deadline)
        let rows = try await batch.value

        #expect(rows.map(\.affectedRows) == [1, 1])
        #expect(database.sqlLog.map { String($0.prefix(24)) } == [
            "BEGIN", "UPDATE accounts SET bala", "UPDATE accounts SET bala", "ROLLBACK",
            "BEGIN", "UPDATE accounts SET bala", "UPDATE accounts SET bala", "COMMIT",
        ])
        await client.shutdown()
    }

    @Test func permanentFailureNamesTheStatementOfTheBatch() async throws {
        let database = ScriptedDatabase()
        database.answer("UPDATE accounts", with: .updated(1))
        database.fail("UPDATE accounts SET balance = balance + ", with: .sqlState("23514", message: "check violation"))
        let client = PostgresClient.testing(database)

        let error = await #expect(throws: PostgresError.self) { try await client.batch(Self.debit) }
        #expect(error?.errorClass == .permanent)
        #expect(error?.sqlState == "23514")
        #expect(error?.lastFailure?.statementIndex == 1)
        #expect(error?.mayHaveBeenApplied == false)
        #expect(database.sqlLog.last == "ROLLBACK")
        await client.shutdown()
    }

    @Test func batchWhoseCommitWasLostIsOutcomeUnknown() async throws {
        let database = ScriptedDatabase()
        database.answer("UPDATE accounts", with: .updated(1))
        database.fail("COMMIT", with: .connectionLostAfterSend)
        let client = PostgresClient.testing(database)

        let error = await #expect(throws: PostgresError.self) { try await client.batch(Self.debit) }
        #expect(error?.reason == .outcomeUnknown)
        #expect(error?.mayHaveBeenApplied == true)
        #expect(database.statements(matching: "UPDATE accounts").count == 2)
        await client.shutdown()
    }

    @Test func batchInsideATransactionJoinsItsBlock() async throws {
        let database = ScriptedDatabase()
        database.answer("UPDATE accounts", with: .updated(1))
        let client = PostgresClient.testing(database)

        try await client.transaction { tx in
            _ = try await tx.batch(Self.debit)
        }
        #expect(database.sqlLog.map { String($0.prefix(6)) } == ["BEGIN", "UPDATE", "UPDATE", "COMMIT"])
        await client.shutdown()
    }

    @Test func cachedPlanThatNoLongerFitsIsRetriedAtOnceOnTheSameSession() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT balance", with: .value(100))
        database.fail("SELECT balance", with: .cachedPlanChanged)
        let events = EventLog()
        let client = PostgresClient.testing(database) { configuration in
            configuration.statementCaching = .prepared(capacity: 8)
            configuration.onAttempt = events.record
        }

        let rows = try await client.query("SELECT balance FROM accounts WHERE id = \(1)", options: .readOnly)
        #expect(try rows.decode(Int.self) == [100])
        #expect(database.statements.map(\.connection) == [1, 1])
        #expect(events.outcomes == [.willRetry(delay: .zero, reconnects: false), .succeeded])
        #expect(events.all.first?.errorClass == .staleStatement)
        await client.shutdown()
    }
}
