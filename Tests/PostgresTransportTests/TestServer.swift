import PostgresTransport
import Testing
import TestSupport

/// The throwaway servers `make test` starts (see ``ServerEnvironment``), as the transport tests use them.
///
/// Tests that need a server are enabled only when it was started; run bare (`swift test` without `make test`), they
/// are skipped with the reason shown.
enum TestServer {
    static let environment = ServerEnvironment.current

    /// Whether `make test` set the main server up; why server tests are skipped when it did not.
    static let isAvailable = environment.has("main")
    static let skipReason = environment.skipReason(needing: "main")

    /// The disposable `crash` server, stopped and started again by the tests that use it.
    static let hasCrashCluster = environment.has("crash", clusterScript: true)
    static let crashSkipReason = environment.skipReason(needing: "crash", clusterScript: true)

    static var host: String { environment.host }
    static var port: String { environment.main.port }
    static var appUser: String { environment.appUser }
    static var appPassword: String { environment.appPassword }

    /// Parameters for the main server, as its superuser, with any overrides.
    static func parameters(port: String? = nil, _ overrides: KeyValuePairs<String, String> = [:]) -> ConnectionParameters {
        environment.server(at: port ?? self.port).parameters(overrides)
    }

    static func connect(
        port: String? = nil,
        _ overrides: KeyValuePairs<String, String> = [:],
        options: LibPQConnection.Options = .init()
    ) async throws -> LibPQConnection {
        try await LibPQConnection.connect(parameters(port: port, overrides), timeout: .seconds(10), options: options)
    }

    /// Runs the cluster script (`scripts/pg-cluster.sh`) with the given arguments, and waits for it.
    static func cluster(_ arguments: String...) async throws {
        try await environment.cluster(arguments)
    }
}
