import PostgresPolicy
import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

/// The `primary` cluster, its streaming standby `standby`, and `bouncer-primary` (pgbouncer in front of the
/// primary, at most 2 clients, query_wait_timeout 2 s): servers no other suite uses.
///
/// Serialized: some tests kill the primary, promote the standby or fill pgbouncer's client slots; each leaves the
/// servers as it found them (the primary read-write on its port, the standby streaming from it on its own).
@Suite(
    "Primary, standby and pgbouncer in front", .capturingLogs,
    .serialized,
    .enabled(if: IntegrationServers.primaryAndStandby, IntegrationServers.primaryAndStandbySkipReason)
)
struct PrimaryStandbyTests {
    static var primaryPort: String { IntegrationServers.port("primary") ?? "5432" }
    static var standbyPort: String { IntegrationServers.port("standby") ?? "5433" }
    static var bouncerPort: String { IntegrationServers.port("bouncer-primary") ?? "6432" }

    static func client(
        ports: [String],
        _ overrides: KeyValuePairs<String, String> = [:],
        _ adjust: (inout PostgresClient.Configuration) -> Void = { _ in }
    ) -> PostgresClient {
        var parameters = IntegrationServers.appParameters(port: ports.joined(separator: ","), overrides)
        parameters["host"] = Array(repeating: "127.0.0.1", count: ports.count).joined(separator: ",")
        return PostgresClient(configuration: IntegrationServers.configuration(parameters, adjust))
    }

    /// A client of `bouncer-primary`.
    static func pooledClient(
        _ overrides: KeyValuePairs<String, String> = [:],
        _ adjust: (inout PostgresClient.Configuration) -> Void = { _ in }
    ) -> PostgresClient {
        PostgresClient(configuration: IntegrationServers.configuration(
            IntegrationServers.appParameters(port: bouncerPort, overrides), adjust
        ))
    }

    /// Whether the client's session is on a standby, and the port of the server it is on.
    static func whereIs(_ client: PostgresClient) async throws -> (inRecovery: Bool, port: String) {
        let rows = try await client.query(
            "SELECT pg_is_in_recovery(), current_setting('port')", options: .readOnly
        )
        let (inRecovery, port) = try #require(try rows.decode((Bool, String).self).first)
        return (inRecovery, port)
    }

    /// Waits until the standby has replayed `count` rows of `table` (30 s at most: the machine may be busy).
    static func waitUntilStandbyHas(_ count: Int, rowsOf table: String) async throws {
        let standby = try await IntegrationServers.superuserSession(port: standbyPort)
        var seen: String?
        for _ in 0..<600 {
            let result = try? await standby.execute("SELECT count(*) FROM \(table)")
            seen = result?.string(row: 0, column: 0)
            if seen == String(count) { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        await standby.close()
        #expect(seen == String(count), "the standby did not replay \(table)")
    }

    @Test func readWriteSessionLandsOnThePrimaryListedAfterTheStandby() async throws {
        let client = Self.client(ports: [Self.standbyPort, Self.primaryPort])
        let (inRecovery, port) = try await Self.whereIs(client)
        #expect(!inRecovery)
        #expect(port == Self.primaryPort)

        // A write through that client reaches the standby by streaming replication.
        let table = IntegrationServers.unique("landing")
        try await client.execute("CREATE TABLE \(unsafeRaw: table) (id int PRIMARY KEY)")
        try await client.execute("INSERT INTO \(unsafeRaw: table) SELECT generate_series(1, \(5))")
        try await Self.waitUntilStandbyHas(5, rowsOf: table)
        try await client.execute("DROP TABLE \(unsafeRaw: table)")
        await client.shutdown()
    }

    @Test func writeWithOnlyTheStandbyListedFailsAsReadOnlyHost() async throws {
        let client = Self.client(ports: [Self.standbyPort]) { $0.retryPolicy.budget = .seconds(4) }
        let error = await #expect(throws: PostgresError.self) {
            try await client.execute("CREATE TABLE never_created (id int)")
        }
        // libpq refuses the standby for target_session_attrs=read-write: nothing was sent, so the client kept
        // reconnecting (a promotion would have let it through) until its budget ran out.
        #expect(error?.errorClass == .readOnlyHost)
        #expect(error?.reason == .budgetExhausted)
        #expect(error?.history.first?.errorClass == .readOnlyHost)
        #expect(error?.mayHaveBeenApplied == false)
        #expect(error?.lastFailure?.phase == .connecting)
        #expect(error?.lastFailure?.message.contains("read-only") == true)
        #expect((error?.elapsed ?? .zero) < .seconds(30))
        await client.shutdown()
    }

    @Test func writeOnTheStandbyWithAnySessionFailsAsReadOnlyHost() async throws {
        let client = Self.client(ports: [Self.standbyPort], ["target_session_attrs": "any"]) {
            $0.retryPolicy.maxAttempts = 2
        }
        let error = await #expect(throws: PostgresError.self) {
            try await client.execute("CREATE TABLE never_created (id int)")
        }
        // The server's answer, 25006, on a session that reports in_hot_standby: retried on a new session, which
        // lands on the same standby.
        #expect(error?.errorClass == .readOnlyHost)
        #expect(error?.reason == .attemptLimitReached)
        #expect(error?.attempts == 2)
        #expect(error?.sqlState == "25006")
        #expect(error?.mayHaveBeenApplied == false)
        #expect((error?.elapsed ?? .zero) < .seconds(30))
        await client.shutdown()
    }
}
