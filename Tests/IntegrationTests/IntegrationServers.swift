import Foundation
import PostgresTransport
import ResilientPostgres
import Testing

/// The servers `make test` starts for these tests (see `scripts/with-test-servers.sh`), from the `POSTGRES_*`
/// variables it exports. Run bare (`swift test` without `make test`), every suite here is skipped with its reason.
enum IntegrationServers {
    static let environment = ProcessInfo.processInfo.environment

    static var appUser: String { environment["POSTGRES_APP_USER"] ?? "app" }
    static var appPassword: String { environment["POSTGRES_APP_PASSWORD"] ?? "app-secret" }

    /// The port of the server `make test` started under `name` (`tls`, `bouncer`, ...), if it did.
    static func port(_ name: String) -> String? {
        environment["POSTGRES_\(variableName(name))_PORT"]
    }

    static func variableName(_ name: String) -> String {
        name.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    static let tls = environment["POSTGRES_TLS_PORT"] != nil && environment["POSTGRES_TLS_SSLROOTCERT"] != nil
    static let tlsSkipReason: Comment =
        "needs the TLS cluster that `make test` starts (POSTGRES_TLS_PORT, POSTGRES_TLS_SSLROOTCERT)"

    static let bouncer = environment["POSTGRES_BOUNCER_PORT"] != nil && environment["POSTGRES_PORT"] != nil
    static let bouncerSkipReason: Comment =
        "needs the pgbouncer in front of `main` that `make test` starts (POSTGRES_BOUNCER_PORT, POSTGRES_PORT)"

    static let failover = ["PRIMARY", "STANDBY", "BOUNCER_PRIMARY"].allSatisfy { environment["POSTGRES_\($0)_PORT"] != nil }
        && environment["POSTGRES_CLUSTER_SCRIPT"] != nil
    static let failoverSkipReason: Comment = """
        needs the primary, its standby and the pgbouncer in front of the primary that `make test` starts \
        (POSTGRES_PRIMARY_PORT, POSTGRES_STANDBY_PORT, POSTGRES_BOUNCER_PRIMARY_PORT, POSTGRES_CLUSTER_SCRIPT)
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
    static func superuserSession(port: String, _ overrides: KeyValuePairs<String, String> = [:]) async throws
        -> LibPQConnection
    {
        var parameters = ConnectionParameters(options: [
            "host": "127.0.0.1", "port": port, "user": "postgres", "dbname": "postgres",
        ])
        for (keyword, value) in overrides { parameters[keyword] = value }
        return try await LibPQConnection.connect(parameters, timeout: .seconds(10))
    }

    /// A client configuration; `adjust` changes what a test needs.
    static func configuration(
        _ parameters: ConnectionParameters,
        _ adjust: (inout PostgresClient.Configuration) -> Void = { _ in }
    ) -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(connection: parameters)
        adjust(&configuration)
        return configuration
    }

    /// A name unique to one test run, for tables and application names.
    static func unique(_ prefix: String) -> String {
        "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Runs `scripts/pg-cluster.sh` with the given arguments, on a thread of its own (it waits for servers to stop,
    /// start or be promoted).
    static func cluster(_ arguments: String...) async throws {
        let script = environment["POSTGRES_CLUSTER_SCRIPT"]!
        let status = await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: run([script] + arguments)) }.start()
        }
        guard status == 0 else { throw ClusterScriptFailed(arguments: arguments, status: status) }
    }

    /// Spawns a command and waits for it; returns its exit status (-1 when it could not be spawned).
    private static func run(_ command: [String]) -> Int32 {
        var pid = pid_t()
        let arguments = command.map { strdup($0) } + [nil]
        defer { arguments.forEach { free($0) } }
        guard posix_spawn(&pid, command[0], nil, nil, arguments, environ) == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status >> 8) & 0xff
    }

    struct ClusterScriptFailed: Error {
        var arguments: [String]
        var status: Int32
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
