import ResilientPostgres
import ResilientPostgresTesting
import Testing
import TestSupport

/// A session that finds itself on a standby retires every session of the pool's epoch.
@Suite("Failover to a new primary", .capturingLogs)
struct FailoverTests {
    /// Opens three sessions at once and gives them back, so that the pool keeps them idle.
    static func warmUp(_ client: PostgresClient) async throws {
        try await client.withConnection { _ in
            try await client.withConnection { _ in
                try await client.withConnection { _ in }
            }
        }
    }

    @Test func readOnlyHostRetiresThePoolEpochAndReconnects() async throws {
        let database = ScriptedDatabase(host: "db-1.test")
        database.answer("INSERT INTO payments", with: .inserted(1))
        let events = EventLog()
        let client = PostgresClient.testing(database) { $0.onAttempt = events.record }
        try await Self.warmUp(client)
        #expect(database.openSessions == [1, 2, 3])

        // db-1 was demoted: the session the insert gets answers 25006 and reports in_hot_standby; db-2 is primary.
        database.fail("INSERT INTO payments", with: .readOnlyHost)
        database.host = "db-2.test"
        let inserted = try await client.execute(insertPayment("order-1", cents: 500))

        #expect(inserted == 1)
        let inserts = database.statements(matching: "INSERT INTO payments")
        #expect(inserts.map(\.host) == ["db-1.test", "db-2.test"])
        #expect(inserts[1].connection == 4)
        // Every session of the old epoch was closed, the idle ones at once; only the new one is open.
        #expect(database.closedSessions.sorted() == [1, 2, 3])
        #expect(database.openSessions == [4])
        #expect(events.outcomes.suffix(2) == [.willRetry(delay: .zero, reconnects: true), .succeeded])
        #expect(events.all.dropLast().last?.errorClass == .readOnlyHost)
        #expect(events.all.dropLast().last?.sqlState == "25006")
        await client.shutdown()
    }

    @Test func connectThatLandsOnAStandbyIsReplaced() async throws {
        let database = ScriptedDatabase()
        database.answer("INSERT INTO payments", with: .inserted(1))
        database.answer("SELECT amount_cents", with: .value(500))
        database.failNextConnect(with: .standby)
        let client = PostgresClient.testing(database)

        // A standby runs reads...
        let rows = try await client.query(
            "SELECT amount_cents FROM payments WHERE key = \("order-1")", options: .readOnly
        )
        #expect(try rows.decode(Int.self) == [500])
        // ... and refuses writes, so the write moves to a new session on the primary.
        #expect(try await client.execute(insertPayment("order-2", cents: 700)) == 1)
        #expect(database.statements(matching: "INSERT").map(\.connection) == [1, 2])
        #expect(database.closedSessions == [1])
        await client.shutdown()
    }

    @Test func connectsRefusedForFindingOnlyStandbysWaitForThePromotion() async throws {
        let database = ScriptedDatabase()
        database.answer("INSERT INTO payments", with: .inserted(1))
        database.failConnects(with: .readOnlySession, times: 2)
        let client = PostgresClient.testing(database)

        // The operation waits for the pool's prober, which reconnects until a primary answers.
        #expect(try await database.clock.run { try await client.execute(insertPayment("order-1", cents: 500)) } == 1)
        #expect(database.connects.map(\.outcome) == [.failed, .failed, .opened])
        #expect(database.statements(matching: "INSERT").map(\.connection) == [3])
        await client.shutdown()
    }

    @Test func readOnlyTransactionOnAPrimaryIsPermanent() async throws {
        let database = ScriptedDatabase()
        database.fail("INSERT INTO payments", with: .readOnlyTransaction)
        let client = PostgresClient.testing(database)

        let error = await #expect(throws: PostgresError.self) {
            try await client.execute(insertPayment("order-1", cents: 500))
        }
        #expect(error?.errorClass == .permanent)
        #expect(error?.sqlState == "25006")
        #expect(database.closedSessions.isEmpty)
        await client.shutdown()
    }
}
