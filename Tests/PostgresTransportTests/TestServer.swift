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

    /// Runs the cluster script (`scripts/pg-cluster.sh`) with the given arguments, and waits for it.
    static func cluster(_ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: environment["POSTGRES_CLUSTER_SCRIPT"]!)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ClusterScriptFailed(arguments: arguments, status: process.terminationStatus)
        }
    }

    struct ClusterScriptFailed: Error {
        var arguments: [String]
        var status: Int32
    }
}
