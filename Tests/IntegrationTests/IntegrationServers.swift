import Foundation
import Logging
import PostgresTransport
import ResilientPostgres
import Testing

/// The TLS cluster, the pgbouncers, and the primary with its standby that `make test` starts (see
/// `scripts/with-test-servers.sh`), from the `POSTGRES_*` variables it exports. Run bare (`swift test` without
/// `make test`), the suites that need them are skipped with the reason.
enum IntegrationServers {
    static var environment: [String: String] { Servers.environment }

    static var appUser: String { environment["POSTGRES_APP_USER"] ?? "app" }
    static var appPassword: String { environment["POSTGRES_APP_PASSWORD"] ?? "app-secret" }

    /// The port of the server `make test` started under `name` (`tls`, `bouncer`, ...), if it did.
    static func port(_ name: String) -> String? {
        environment["POSTGRES_\(variableName(name))_PORT"]
    }

    /// The log file of the server `make test` started under `name`, if it did.
    static func log(_ name: String) -> String? {
        environment["POSTGRES_\(variableName(name))_LOG"]
    }

    static func variableName(_ name: String) -> String {
        name.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    static let main = environment["POSTGRES_MAIN_PORT"] != nil
    static let mainSkipReason: Comment = "needs the `main` cluster that `make test` starts (POSTGRES_MAIN_PORT)"

    static let slots = environment["POSTGRES_SLOTS_PORT"] != nil && environment["POSTGRES_SLOTS_LOG"] != nil
    static let slotsSkipReason: Comment = """
        needs the `slots` cluster that `make test` starts, with max_connections=8 and \
        superuser_reserved_connections=2 (POSTGRES_SLOTS_PORT, POSTGRES_SLOTS_LOG)
        """

    static let tls = environment["POSTGRES_TLS_PORT"] != nil && environment["POSTGRES_TLS_SSLROOTCERT"] != nil
    static let tlsSkipReason: Comment =
        "needs the TLS cluster that `make test` starts (POSTGRES_TLS_PORT, POSTGRES_TLS_SSLROOTCERT)"

    static let bouncer = environment["POSTGRES_BOUNCER_PORT"] != nil && environment["POSTGRES_PORT"] != nil
    static let bouncerSkipReason: Comment =
        "needs the pgbouncer in front of `main` that `make test` starts (POSTGRES_BOUNCER_PORT, POSTGRES_PORT)"

    static let primaryAndStandby = environment["POSTGRES_PRIMARY_PORT"] != nil
        && environment["POSTGRES_STANDBY_PORT"] != nil && environment["POSTGRES_CLUSTER_SCRIPT"] != nil
    static let primaryAndStandbySkipReason: Comment = """
        needs the primary and its standby that `make test` starts \
        (POSTGRES_PRIMARY_PORT, POSTGRES_STANDBY_PORT, POSTGRES_CLUSTER_SCRIPT)
        """

    static let bouncerInFrontOfPrimary = environment["POSTGRES_BOUNCER_PRIMARY_PORT"] != nil
    static let bouncerInFrontOfPrimarySkipReason: Comment = """
        needs the pgbouncer in front of the primary that `make test` starts, with max_client_conn=2 and \
        query_wait_timeout=2 (POSTGRES_BOUNCER_PRIMARY_PORT)
        """

    /// Connection options for role app on 127.0.0.1 at `port`, then `overrides` (which may replace any of them).
    static func appParameters(port: String, _ overrides: KeyValuePairs<String, String> = [:]) -> ConnectionParameters {
        var parameters = ConnectionParameters(options: [
            "host": "127.0.0.1", "port": port, "user": appUser, "password": appPassword, "dbname": "postgres",
        ])
        for (keyword, value) in overrides { parameters[keyword] = value }
        return parameters
    }

    /// A superuser session on a cluster, to set up, inspect and disrupt; outside any client.
    static func superuserSession(port: String) async throws -> LibPQConnection {
        try await LibPQConnection.connect(Servers.parameters(port: port), timeout: .seconds(10))
    }

    /// A client configuration; `adjust` changes what a test needs.
    static func configuration(
        _ parameters: ConnectionParameters,
        _ adjust: (inout PostgresClient.Configuration) -> Void = { _ in }
    ) -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(connection: parameters)
        configuration.logger = .quiet
        adjust(&configuration)
        return configuration
    }

    /// A name unique to one test run, for tables and application names.
    static func unique(_ prefix: String) -> String {
        "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
    }
}

/// Runs `body`, then `cleanup` whether `body` threw or not (an async `defer`).
func withCleanup<Result>(
    _ body: () async throws -> Result,
    cleanup: () async throws -> Void
) async throws -> Result {
    let result: Result
    do {
        result = try await body()
    } catch {
        try? await cleanup()
        throw error
    }
    try await cleanup()
    return result
}

extension Result {
    /// The error, when this is a failure.
    var failure: Failure? {
        if case .failure(let error) = self { error } else { nil }
    }
}
