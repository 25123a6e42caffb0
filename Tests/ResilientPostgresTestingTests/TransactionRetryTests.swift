import ResilientPostgres
import ResilientPostgresTesting
import Testing
import TestSupport

/// Transaction blocks: run again whole when the server rolled them back, never when COMMIT was lost.
@Suite("Transaction blocks", .capturingLogs)
struct TransactionRetryTests {
    static func transfer(_ tx: PostgresTransaction) async throws {
        try await tx.execute("UPDATE accounts SET balance = balance - \(100) WHERE id = \(1)")
        try await tx.execute("UPDATE accounts SET balance = balance + \(100) WHERE id = \(2)")
    }

    @Test func blockIsRunAgainAfterASerializationFailure() async throws {
        let database = ScriptedDatabase()
        database.answer("UPDATE accounts", with: .updated(1))
        database.fail("UPDATE accounts SET balance = balance + ", with: .serializationFailure)
        let events = EventLog()
        let client = PostgresClient.testing(database) { $0.onAttempt = events.record }
        let runs = Counter()

        let transfer = Task {
            try await client.transaction { tx in
                runs.increment()
                try await Self.transfer(tx)
            }
        }
        // A conflict backs off before the block runs again.
        let backoff = try await database.clock.nextSleep()
        #expect(runs.count == 1)
        database.clock.advance(to: backoff.deadline)
        try await transfer.value

        #expect(runs.count == 2)
        #expect(database.sqlLog == [
            "BEGIN",
            "UPDATE accounts SET balance = balance - $1 WHERE id = $2",
            "UPDATE accounts SET balance = balance + $1 WHERE id = $2",
            "ROLLBACK",
            "BEGIN",
            "UPDATE accounts SET balance = balance - $1 WHERE id = $2",
            "UPDATE accounts SET balance = balance + $1 WHERE id = $2",
            "COMMIT",
        ])
        // The session survived the conflict and ran the second run too.
        #expect(Set(database.statements.map(\.connection)) == [1])
        #expect(events.outcomes == [.willRetry(delay: backoff.duration, reconnects: false), .succeeded])
        #expect(events.all.first?.errorClass == .transactionConflict)
        #expect(events.all.first?.sqlState == "40001")
        await client.shutdown()
    }

    @Test func blockIsRunAgainOnANewSessionAfterTermination() async throws {
        let database = ScriptedDatabase()
        database.answer("UPDATE accounts", with: .updated(1))
        database.fail("UPDATE accounts SET balance = balance + ", with: .backendTerminated)
        let client = PostgresClient.testing(database)
        let runs = Counter()

        try await client.transaction { tx in
            runs.increment()
            try await Self.transfer(tx)
        }
        #expect(runs.count == 2)
        #expect(database.statements(matching: "COMMIT").map(\.connection) == [2])
        #expect(database.closedSessions == [1])
        await client.shutdown()
    }

    @Test func blockWhoseConnectionDroppedBeforeCommitIsRunAgain() async throws {
        let database = ScriptedDatabase()
        database.answer("UPDATE accounts", with: .updated(1))
        // Lost after sending, but inside the block: the server rolls the uncommitted work back.
        database.fail("UPDATE accounts SET balance = balance + ", with: .connectionLostAfterSend)
        let client = PostgresClient.testing(database)
        let runs = Counter()

        try await client.transaction { tx in
            runs.increment()
            try await Self.transfer(tx)
        }
        #expect(runs.count == 2)
        await client.shutdown()
    }

    @Test func lostCommitIsOutcomeUnknownAndNotRunAgain() async throws {
        let database = ScriptedDatabase()
        database.answer("UPDATE accounts", with: .updated(1))
        database.fail("COMMIT", with: .connectionLostAfterSend)
        let client = PostgresClient.testing(database)
        let runs = Counter()

        let error = await #expect(throws: PostgresError.self) {
            try await client.transaction { tx in
                runs.increment()
                try await Self.transfer(tx)
            }
        }
        #expect(runs.count == 1)
        #expect(error?.reason == .outcomeUnknown)
        #expect(error?.mayHaveBeenApplied == true)
        #expect(error?.lastFailure?.phase == .commitInFlight)
        await client.shutdown()
    }

    @Test func commitLostAfterCommittingLocallyIsOutcomeUnknown() async throws {
        let database = ScriptedDatabase()
        database.answer("UPDATE accounts", with: .updated(1))
        database.fail("COMMIT", with: .committedLocallyThenLost)
        let client = PostgresClient.testing(database)

        let error = await #expect(throws: PostgresError.self) {
            try await client.transaction { tx in try await Self.transfer(tx) }
        }
        #expect(error?.errorClass == .outcomeUnknown)
        #expect(error?.mayHaveBeenApplied == true)
        #expect(error?.lastFailure?.sqlState == "57P01")
        #expect(error?.lastFailure?.sqlStateFromNotice == true)
        await client.shutdown()
    }

    @Test func errorSwallowedInsideTheBlockMakesCommitAnswerRollback() async throws {
        let database = ScriptedDatabase()
        database.answer("UPDATE accounts", with: .updated(1))
        database.fail("UPDATE accounts SET balance = balance + ", with: .sqlState("23514", message: "check violation"))
        let client = PostgresClient.testing(database)

        let error = await #expect(throws: PostgresError.self) {
            try await client.transaction { tx in
                try await tx.execute("UPDATE accounts SET balance = balance - \(100) WHERE id = \(1)")
                _ = try? await tx.execute("UPDATE accounts SET balance = balance + \(100) WHERE id = \(2)")
                // The block failed on the server: every later statement fails until the block ends.
                do {
                    _ = try await tx.query("SELECT balance FROM accounts WHERE id = \(1)")
                    Issue.record("a statement in a failed block was answered")
                } catch let error as TransportError {
                    #expect(error.sqlState == "25P02")
                }
            }
        }
        #expect(error?.errorClass == .permanent)
        #expect(error?.lastFailure?.code == .commitRolledBack)
        #expect(database.statements(matching: "COMMIT").count == 1)
        await client.shutdown()
    }
}
