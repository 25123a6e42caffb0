import ResilientPostgres
import ResilientPostgresTesting
import Synchronization
import Testing
import TestSupport

/// The main server `make test` starts (see ``ServerEnvironment``).
enum InjectorTestServer {
    static let isAvailable = ServerEnvironment.current.has("main")
    static let skipReason = ServerEnvironment.current.skipReason(needing: "main")

    static func configuration() -> PostgresClient.Configuration {
        PostgresClient.Configuration(connection: ServerEnvironment.current.main.parameters())
    }

    /// A table of payments unique to one test, created for it.
    static func paymentsTable(_ client: PostgresClient) async throws -> String {
        let table = "payments_\(UInt32.random(in: 0...UInt32.max))"
        try await client.execute(
            "CREATE TABLE \(unsafeRaw: table) (key text PRIMARY KEY, amount_cents bigint NOT NULL)"
        )
        return table
    }

    static func count(_ table: String, _ client: PostgresClient) async throws -> Int {
        try await client.query("SELECT count(*) FROM \(unsafeRaw: table)", options: .readOnly).decode(Int.self)[0]
    }
}

@Suite(
    "Fault injector against a real server", .capturingLogs,
    .enabled(if: InjectorTestServer.isAvailable, InjectorTestServer.skipReason)
)
struct FaultInjectorTests {
    @Test func insertWhoseAnswerIsLostWasAppliedAndIsNotRetried() async throws {
        let faults = FaultInjector()
        let client = PostgresClient.testing(InjectorTestServer.configuration(), injecting: faults)
        let table = try await InjectorTestServer.paymentsTable(client)
        faults.fail(.prefix("INSERT INTO \(table)"), with: .connectionLostAfterSend)

        let error = await #expect(throws: PostgresError.self) {
            try await client.execute("INSERT INTO \(unsafeRaw: table) VALUES (\("order-1"), \(500))")
        }
        #expect(error?.reason == .outcomeUnknown)
        #expect(error?.mayHaveBeenApplied == true)
        // It was applied: the server ran it before the answer was lost. And it ran once.
        #expect(try await InjectorTestServer.count(table, client) == 1)
        #expect(faults.statements(matching: .prefix("INSERT INTO \(table)")).count == 1)
        try await client.execute("DROP TABLE \(unsafeRaw: table)")
        await client.shutdown()
    }

    @Test func idempotentInsertIsRetriedAndAppliedOnce() async throws {
        let faults = FaultInjector()
        let client = PostgresClient.testing(InjectorTestServer.configuration(), injecting: faults)
        let table = try await InjectorTestServer.paymentsTable(client)
        faults.fail(.prefix("INSERT INTO \(table)"), with: .connectionLostAfterSend)

        let inserted = try await client.execute(
            "INSERT INTO \(unsafeRaw: table) VALUES (\("order-1"), \(500)) ON CONFLICT (key) DO NOTHING",
            options: .idempotent
        )
        // The retry found the row the lost attempt had written.
        #expect(inserted == 0)
        #expect(try await InjectorTestServer.count(table, client) == 1)
        #expect(faults.statements(matching: .prefix("INSERT INTO \(table)")).count == 2)
        #expect(faults.closedSessions.count == 1)
        try await client.execute("DROP TABLE \(unsafeRaw: table)")
        await client.shutdown()
    }

    @Test func verificationFindsTheLostInsert() async throws {
        let faults = FaultInjector()
        let client = PostgresClient.testing(InjectorTestServer.configuration(), injecting: faults)
        let table = try await InjectorTestServer.paymentsTable(client)
        faults.fail(.prefix("INSERT INTO \(table)"), with: .connectionLostAfterSend)

        let outcome = try await client.execute(
            "INSERT INTO \(unsafeRaw: table) VALUES (\("order-1"), \(500))",
            verifyingWith: { client in
                try await client.query("SELECT 1 FROM \(unsafeRaw: table) WHERE key = \("order-1")", options: .readOnly)
                    .count == 1
            }
        )
        #expect(outcome == .appliedEarlier)
        #expect(try await InjectorTestServer.count(table, client) == 1)
        try await client.execute("DROP TABLE \(unsafeRaw: table)")
        await client.shutdown()
    }

    @Test func terminatedTransactionIsRolledBackAndRunAgainOnce() async throws {
        let faults = FaultInjector()
        let client = PostgresClient.testing(InjectorTestServer.configuration(), injecting: faults)
        let table = try await InjectorTestServer.paymentsTable(client)
        try await client.execute("INSERT INTO \(unsafeRaw: table) VALUES ('a', 100), ('b', 0)")
        faults.fail(.prefix("UPDATE \(table) SET amount_cents = amount_cents + "), with: .backendTerminated)
        let runs = Mutex(0)

        try await client.transaction { tx in
            runs.withLock { $0 += 1 }
            try await tx.execute("UPDATE \(unsafeRaw: table) SET amount_cents = amount_cents - \(30) WHERE key = 'a'")
            try await tx.execute("UPDATE \(unsafeRaw: table) SET amount_cents = amount_cents + \(30) WHERE key = 'b'")
        }
        #expect(runs.withLock { $0 } == 2)
        // As one run leaves it: the server rolled the first back when its session was closed.
        let amounts = try await client.query(
            "SELECT amount_cents FROM \(unsafeRaw: table) ORDER BY key", options: .readOnly
        )
        #expect(try amounts.decode(Int.self) == [70, 30])
        try await client.execute("DROP TABLE \(unsafeRaw: table)")
        await client.shutdown()
    }

    @Test func serializationFailureInjectedMidBlockRollsBackForReal() async throws {
        let faults = FaultInjector()
        let client = PostgresClient.testing(InjectorTestServer.configuration(), injecting: faults)
        let table = try await InjectorTestServer.paymentsTable(client)
        faults.fail(.prefix("INSERT INTO \(table) VALUES ($1, $2)"), with: .serializationFailure)
        let runs = Mutex(0)

        try await client.transaction { tx in
            runs.withLock { $0 += 1 }
            try await tx.execute("INSERT INTO \(unsafeRaw: table) VALUES ('first', 1)")
            try await tx.execute("INSERT INTO \(unsafeRaw: table) VALUES (\("second"), \(2))")
        }
        #expect(runs.withLock { $0 } == 2)
        #expect(try await InjectorTestServer.count(table, client) == 2)
        try await client.execute("DROP TABLE \(unsafeRaw: table)")
        await client.shutdown()
    }

    @Test func lostCommitWasCommittedForReal() async throws {
        let faults = FaultInjector()
        let client = PostgresClient.testing(InjectorTestServer.configuration(), injecting: faults)
        let table = try await InjectorTestServer.paymentsTable(client)
        faults.fail("COMMIT", with: .connectionLostAfterSend)

        let error = await #expect(throws: PostgresError.self) {
            try await client.transaction { tx in
                try await tx.execute("INSERT INTO \(unsafeRaw: table) VALUES (\("order-1"), \(500))")
            }
        }
        #expect(error?.reason == .outcomeUnknown)
        #expect(error?.lastFailure?.phase == .commitInFlight)
        #expect(try await InjectorTestServer.count(table, client) == 1)
        try await client.execute("DROP TABLE \(unsafeRaw: table)")
        await client.shutdown()
    }

    @Test func refusedConnectIsRetriedThroughTheProber() async throws {
        let faults = FaultInjector()
        faults.failConnects(with: .connectionRefused, times: 2)
        let client = PostgresClient.testing(InjectorTestServer.configuration(), injecting: faults)

        let rows = try await client.query("SELECT 1", options: .readOnly)
        #expect(try rows.decode(Int.self) == [1])
        #expect(faults.connects.map(\.outcome) == [.failed, .failed, .opened])
        await client.shutdown()
    }

    @Test func sessionOnAStandbyIsReplaced() async throws {
        let faults = FaultInjector()
        let client = PostgresClient.testing(InjectorTestServer.configuration(), injecting: faults)
        let table = try await InjectorTestServer.paymentsTable(client)
        // The session the insert gets answers as a demoted primary would.
        faults.fail(.prefix("INSERT INTO \(table)"), with: .readOnlyHost)

        try await client.execute("INSERT INTO \(unsafeRaw: table) VALUES (\("order-1"), \(500))")
        #expect(try await InjectorTestServer.count(table, client) == 1)
        #expect(Set(faults.statements(matching: .prefix("INSERT INTO \(table)")).map(\.connection)).count == 2)
        try await client.execute("DROP TABLE \(unsafeRaw: table)")
        await client.shutdown()
    }
}
