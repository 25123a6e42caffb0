import Logging
import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

/// The TLS cluster, the pgbouncers, and the primary with its standby that `make test` starts (see
/// ``ServerEnvironment``). Run bare (`swift test` without `make test`), the suites that need them are skipped with
/// the reason.
enum IntegrationServers {
    static var environment: ServerEnvironment { Servers.environment }

    static var appUser: String { environment.appUser }

    /// The port of the server `make test` started under `name` (`tls`, `bouncer`, ...), if it did.
    static func port(_ name: String) -> String? {
        environment.server(name)?.port
    }

    /// The log file of the server `make test` started under `name`, if it did.
    static func log(_ name: String) -> String? {
        environment.server(name)?.log
    }

    static let main = environment.has("main")
    static let mainSkipReason = environment.skipReason(needing: "main")

    static let slots = environment.server("slots")?.log != nil
    static let slotsSkipReason = environment.skipReason(
        needing: "slots", detail: "with max_connections=8 and superuser_reserved_connections=2"
    )

    static let tls = environment.server("tls")?.rootCertificate != nil
    static let tlsSkipReason = environment.skipReason(needing: "tls")

    static let bouncer = environment.has("bouncer", "main")
    static let bouncerSkipReason = environment.skipReason(needing: "bouncer", "main")

    static let bouncerInSessionMode = environment.has("bouncer-session", "main")
    static let bouncerInSessionModeSkipReason = environment.skipReason(
        needing: "bouncer-session", "main", detail: "with pool_mode=session"
    )

    static let primaryAndStandby = environment.has("primary", "standby", clusterScript: true)
    static let primaryAndStandbySkipReason = environment.skipReason(needing: "primary", "standby", clusterScript: true)

    static let bouncerInFrontOfPrimary = environment.has("bouncer-primary")
    static let bouncerInFrontOfPrimarySkipReason = environment.skipReason(
        needing: "bouncer-primary", detail: "with max_client_conn=2 and query_wait_timeout=2"
    )

    /// Connection options for role app on 127.0.0.1 at `port`, then `overrides` (which may replace any of them).
    static func appParameters(port: String, _ overrides: KeyValuePairs<String, String> = [:]) -> ConnectionParameters {
        environment.server(at: port).appParameters(overrides)
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
