import Foundation
import PostgresTransport
import Testing

/// The throwaway servers `make test` starts, described by the `POSTGRES_*` variables it exports.
///
/// Tests that need a server are enabled only when those variables are set; run bare (`swift test` without
/// `make test`), they are skipped with the reason shown.
enum TestServer {
    static let environment = ProcessInfo.processInfo.environment

    /// Whether `make test` set the main server up; why server tests are skipped when it did not.
    static let isAvailable = environment["POSTGRES_PORT"] != nil
    static let skipReason: Comment = "needs the PostgreSQL servers that `make test` starts (POSTGRES_* unset)"

    static let hasCrashCluster = environment["POSTGRES_CRASH_PORT"] != nil && environment["POSTGRES_CLUSTER_SCRIPT"] != nil
    static let crashSkipReason: Comment =
        "needs the disposable `crash` server that `make test` starts (POSTGRES_CRASH_PORT, POSTGRES_CLUSTER_SCRIPT)"

    static var host: String { environment["POSTGRES_HOST"] ?? "127.0.0.1" }
    static var port: String { environment["POSTGRES_PORT"] ?? "5432" }
    static var user: String { environment["POSTGRES_USER"] ?? "postgres" }
    static var database: String { environment["POSTGRES_DB"] ?? "postgres" }
    static var appUser: String { environment["POSTGRES_APP_USER"] ?? "app" }
    static var appPassword: String { environment["POSTGRES_APP_PASSWORD"] ?? "app-secret" }

    /// Parameters for the main server, as its superuser, with any overrides.
    static func parameters(port: String? = nil, _ overrides: KeyValuePairs<String, String> = [:]) -> ConnectionParameters {
        var parameters = ConnectionParameters(options: [
            "host": host, "port": port ?? self.port, "user": user, "dbname": database,
        ])
        for (keyword, value) in overrides { parameters[keyword] = value }
        return parameters
    }

    static func connect(
        port: String? = nil,
        _ overrides: KeyValuePairs<String, String> = [:],
        options: LibPQConnection.Options = .init()
    ) async throws -> LibPQConnection {
        try await LibPQConnection.connect(parameters(port: port, overrides), timeout: .seconds(10), options: options)
    }

    /// Runs the cluster script (`scripts/pg-cluster.sh`) with the given arguments, and waits for it on a thread of
    /// its own (the script waits for the server to stop or start).
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
