import ResilientPostgres
import ResilientPostgresTesting
import Testing
import TestSupport

/// Writes whose answer is lost: never run twice unless declared idempotent.
@Suite("Writes whose outcome is unknown", .capturingLogs)
struct OutcomeUnknownTests {
    @Test func autocommitInsertLostAfterSendIsNotRetried() async throws {
        let database = ScriptedDatabase()
        database.answer("INSERT INTO payments", with: .inserted(1))
        database.fail("INSERT INTO payments", with: .connectionLostAfterSend)
        let events = EventLog()
        let client = PostgresClient.testing(database) { $0.onAttempt = events.record }

        let error = await #expect(throws: PostgresError.self) {
            try await client.execute(insertPayment("order-1", cents: 500))
        }
        #expect(error?.errorClass == .outcomeUnknown)
        #expect(error?.reason == .outcomeUnknown)
        #expect(error?.mayHaveBeenApplied == true)
        #expect(error?.attempts == 1)
        #expect(error?.lastFailure?.code == .connectionLost)
        #expect(error?.lastFailure?.phase == .sent)
        #expect(error.map { String(describing: $0) }?.contains("may or may not have been applied") == true)
        // Sent once, with its values bound, and never again.
        let inserts = database.statements(matching: "INSERT INTO payments")
        #expect(inserts.count == 1)
        #expect(try inserts[0].parameter(0, as: String.self) == "order-1")
        #expect(try inserts[0].parameter(1, as: Int.self) == 500)
        #expect(events.outcomes == [.gaveUp(.outcomeUnknown)])
        #expect(database.clock.pendingSleeps.isEmpty)
        await client.shutdown()
    }

    @Test func sameInsertDeclaredIdempotentIsRetriedOnANewSession() async throws {
        let database = ScriptedDatabase()
        database.answer("INSERT INTO payments", with: .inserted(1))
        database.fail("INSERT INTO payments", with: .connectionLostAfterSend)
        let events = EventLog()
        let client = PostgresClient.testing(database) { $0.onAttempt = events.record }

        let inserted = try await client.execute(insertPayment("order-1", cents: 500), options: .idempotent)
        #expect(inserted == 1)
        let inserts = database.statements(matching: "INSERT INTO payments")
        #expect(inserts.map(\.connection) == [1, 2])
        #expect(inserts.map(\.fault) == [.connectionLostAfterSend, nil])
        // The lost session was closed, not reused; the retry reconnected at once (the first drop waits for nothing).
        #expect(database.closedSessions == [1])
        #expect(database.openSessions == [2])
        #expect(events.outcomes == [.willRetry(delay: .zero, reconnects: true), .succeeded])
        #expect(events.all.first?.errorClass == .serverWentAway)
        #expect(database.clock.elapsed == .zero)
        await client.shutdown()
    }

    @Test func insertLostBeforeSendIsRetriedEvenAsAPlainWrite() async throws {
        let database = ScriptedDatabase()
        database.answer("INSERT INTO payments", with: .inserted(1))
        database.fail("INSERT INTO payments", with: .connectionLostBeforeSend)
        let client = PostgresClient.testing(database)

        #expect(try await client.execute(insertPayment("order-1", cents: 500)) == 1)
        #expect(database.statements(matching: "INSERT").map(\.fault) == [.connectionLostBeforeSend, nil])
        await client.shutdown()
    }

    @Test func withConnectionFailingAfterAFirstStatementRanIsOutcomeUnknown() async throws {
        let database = ScriptedDatabase()
        database.answer("UPDATE ledger", with: .updated(1))
        database.answer("INSERT INTO audit", with: .inserted(1))
        // Nothing of the INSERT is sent, but the UPDATE before it already ran on the lost session.
        database.fail("INSERT INTO audit", with: .connectionLostBeforeSend)
        let client = PostgresClient.testing(database)
        let runs = Counter()

        let error = await #expect(throws: PostgresError.self) {
            try await client.withConnection { connection in
                runs.increment()
                try await connection.execute("UPDATE ledger SET balance = balance - \(500) WHERE id = \(7)")
                try await connection.execute("INSERT INTO audit (entry) VALUES (\("debit"))")
            }
        }
        #expect(runs.count == 1)
        #expect(error?.reason == .outcomeUnknown)
        #expect(error?.mayHaveBeenApplied == true)
        // The INSERT itself was not sent: it is the UPDATE before it that leaves the outcome unknown.
        #expect(error?.lastFailure?.phase == .notSent)
        await client.shutdown()
    }

    @Test func withConnectionWhoseFirstStatementWasNotSentRunsAgain() async throws {
        let database = ScriptedDatabase()
        database.answer("UPDATE ledger", with: .updated(1))
        database.fail("UPDATE ledger", with: .connectionLostBeforeSend)
        let client = PostgresClient.testing(database)
        let runs = Counter()

        let updated = try await client.withConnection { connection in
            runs.increment()
            return try await connection.execute("UPDATE ledger SET balance = balance - \(500) WHERE id = \(7)")
        }
        #expect(updated == 1)
        #expect(runs.count == 2)
        #expect(database.statements(matching: "UPDATE ledger").map(\.connection) == [1, 2])
        await client.shutdown()
    }

    @Test func withConnectionDeclaredIdempotentRunsAgainAfterALaterFailure() async throws {
        let database = ScriptedDatabase()
        database.answer("UPDATE ledger", with: .updated(1))
        database.answer("INSERT INTO audit", with: .inserted(1))
        database.fail("INSERT INTO audit", with: .connectionLostAfterSend)
        let client = PostgresClient.testing(database)
        let runs = Counter()

        try await client.withConnection(options: .idempotent) { connection in
            runs.increment()
            try await connection.execute("UPDATE ledger SET balance = \(0) WHERE id = \(7)")
            try await connection.execute("INSERT INTO audit (entry) VALUES (\("reset")) ON CONFLICT DO NOTHING")
        }
        #expect(runs.count == 2)
        await client.shutdown()
    }
}
