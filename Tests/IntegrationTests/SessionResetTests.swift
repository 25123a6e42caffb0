import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

/// A lease that leaves settings, a role, an advisory lock, a temporary table, `LISTEN`, a prepared statement and an
/// open cursor behind, on a client with one session: the next operations get that same session, reset.
@Suite(
    "Session state never carries to the next lease", .capturingLogs,
    .enabled(if: IntegrationServers.main, IntegrationServers.mainSkipReason)
)
struct SessionResetTests {
    static var port: String { IntegrationServers.port("main") ?? "5432" }

    static func client(
        _ recorder: SessionRecorder,
        _ adjust: (inout PostgresClient.Configuration) -> Void = { _ in }
    ) -> PostgresClient {
        recorder.client(IntegrationServers.configuration(IntegrationServers.appParameters(port: port)) {
            $0.maxConnections = 1
            adjust(&$0)
        })
    }

    @Test(arguments: SessionLeftovers.Lease.allCases)
    func nextOperationsFindANewSessionOnTheSameBackend(_ lease: SessionLeftovers.Lease) async throws {
        let leftovers = SessionLeftovers()
        try await leftovers.makeRole(port: Self.port)
        let recorder = SessionRecorder()
        let client = Self.client(recorder)
        try await withCleanup {
            let leasePid = try await leftovers.leave(with: client, lease)
            let observed = try await SessionLeftovers.observe(with: client)
            #expect(observed == SessionLeftovers.Observed(
                pid: leasePid, defaultTransactionReadOnly: "off",
                searchPath: "\"$user\", public", currentRole: IntegrationServers.appUser,
                listening: 0, cursors: 0, appPrepared: 0
            ))
            let held = try await leftovers.anyHeldOnServer(port: Self.port)
            #expect(!held.lock && !held.table)
            #expect(try await leftovers.takeAgain(with: client))
            #expect(try await SessionLeftovers.observe(with: client).pid == observed.pid)
            // The reset, not a new session, cleaned up: one session, never closed, reset after each lease.
            #expect(recorder.connects == 1)
            #expect(recorder.closes == 0)
            #expect(recorder.resets == Array(
                repeating: SessionRecorder.Reset(deallocatedPreparedStatements: true, failure: nil), count: 2
            ))
        } cleanup: {
            await client.shutdown()
            try await leftovers.dropRole(port: Self.port)
        }
    }

    /// `DEALLOCATE ALL` would drop the client's own cached statements too: it is sent only after the app ran
    /// `PREPARE`, and the cached statements are prepared again when next used.
    @Test func cachedStatementsSurviveAResetUnlessTheAppPrepared() async throws {
        let recorder = SessionRecorder()
        let client = Self.client(recorder) { $0.statementCaching = .prepared() }
        let cached: PostgresQuery = "SELECT \(20) + 22"
        let stillPrepared: PostgresQuery =
            "SELECT count(*)::int FROM pg_prepared_statements WHERE statement = \("SELECT $1 + 22")"
        try await withCleanup {
            #expect(try await client.query(cached, options: .readOnly).decode(Int.self) == [42])
            _ = try await client.withConnection { try await $0.execute("SET search_path = nowhere") }
            #expect(try await client.query(stillPrepared, options: .readOnly).decode(Int.self) == [1])
            _ = try await client.withConnection { try await $0.execute("PREPARE mine AS SELECT 1") }
            #expect(try await client.query(stillPrepared, options: .readOnly).decode(Int.self) == [0])
            #expect(try await client.query(cached, options: .readOnly).decode(Int.self) == [42])
            #expect(recorder.resets.map(\.deallocatedPreparedStatements) == [false, true])
            #expect(recorder.resets.allSatisfy { $0.failure == nil })
            #expect(recorder.connects == 1)
        } cleanup: {
            await client.shutdown()
        }
    }
}

/// The same through pgbouncer in transaction mode, in a pool of its own (`isolated`): server sessions move between
/// clients there, so session state is not expected to stick, but none may leak, and the reset must not fail.
@Suite(
    "Session state never carries to the next lease, through pgbouncer", .capturingLogs, .serialized,
    .enabled(if: IntegrationServers.bouncer, IntegrationServers.bouncerSkipReason)
)
struct PgBouncerSessionResetTests {
    static var port: String { IntegrationServers.port("bouncer") ?? "6432" }
    static var serverPort: String { IntegrationServers.port("main") ?? "5432" }

    @Test(arguments: SessionLeftovers.Lease.allCases)
    func nothingLeaksAndTheResetSucceeds(_ lease: SessionLeftovers.Lease) async throws {
        let leftovers = SessionLeftovers()
        try await leftovers.makeRole(port: Self.serverPort)
        let recorder = SessionRecorder()
        let client = recorder.client(IntegrationServers.configuration(
            IntegrationServers.appParameters(port: Self.port, ["dbname": "isolated"])
        ) { $0.maxConnections = 1 })
        try await withCleanup {
            _ = try await leftovers.leave(with: client, lease)
            let observed = try await SessionLeftovers.observe(with: client)
            #expect(observed == SessionLeftovers.Observed(
                pid: observed.pid, defaultTransactionReadOnly: "off", searchPath: "\"$user\", public",
                currentRole: IntegrationServers.appUser, listening: 0, cursors: 0, appPrepared: 0
            ))
            let held = try await leftovers.anyHeldOnServer(port: Self.serverPort)
            #expect(!held.lock && !held.table)
            #expect(try await leftovers.takeAgain(with: client))
            #expect(recorder.connects == 1)
            #expect(recorder.closes == 0)
            #expect(recorder.resets == Array(
                repeating: SessionRecorder.Reset(deallocatedPreparedStatements: true, failure: nil), count: 2
            ))
        } cleanup: {
            await client.shutdown()
            try await leftovers.dropRole(port: Self.serverPort)
        }
    }

    @Test func deallocatesOnlyAfterTheAppPrepared() async throws {
        let recorder = SessionRecorder()
        let client = recorder.client(IntegrationServers.configuration(
            IntegrationServers.appParameters(port: Self.port, ["dbname": "isolated"])
        ) { $0.maxConnections = 1 })
        try await withCleanup {
            _ = try await client.withConnection { try await $0.execute("SET search_path = nowhere") }
            _ = try await client.withConnection { try await $0.execute("PREPARE mine AS SELECT 1") }
            _ = try await client.withConnection { try await $0.execute("PREPARE mine AS SELECT 1") }
            #expect(recorder.resets == [
                SessionRecorder.Reset(deallocatedPreparedStatements: false, failure: nil),
                SessionRecorder.Reset(deallocatedPreparedStatements: true, failure: nil),
                SessionRecorder.Reset(deallocatedPreparedStatements: true, failure: nil),
            ])
            #expect(recorder.connects == 1)
        } cleanup: {
            await client.shutdown()
        }
    }
}
