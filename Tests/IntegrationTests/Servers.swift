import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

/// The throwaway servers `make test` starts for integration tests (see ``ServerEnvironment``).
enum Servers {
    static let environment = ServerEnvironment.current

    /// The `storm` cluster: restarted, shut down and cut off by the disruption tests, and by nothing else.
    static let stormPort = environment.server("storm")?.port
    static let hasStorm = environment.has("storm", clusterScript: true)
    static let stormSkipReason = environment.skipReason(needing: "storm", clusterScript: true)

    /// Connection parameters for a cluster on loopback, as its superuser.
    static func parameters(port: String, _ overrides: KeyValuePairs<String, String> = [:]) -> ConnectionParameters {
        environment.server(at: port).parameters(overrides)
    }

    /// Runs the cluster script (`scripts/pg-cluster.sh`) with `arguments`, and waits for it.
    static func cluster(_ arguments: String...) async throws {
        try await environment.cluster(arguments)
    }
}
