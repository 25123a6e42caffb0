import Logging
import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

/// The main server `make test` starts (see ``ServerEnvironment``).
enum ClientTestServer {
    static let environment = ServerEnvironment.current
    static let isAvailable = environment.has("main")
    static let skipReason = environment.skipReason(needing: "main")

    static var port: String { environment.main.port }

    static var parameters: ConnectionParameters {
        environment.main.parameters()
    }

    static func configuration(_ adjust: (inout PostgresClient.Configuration) -> Void = { _ in }) -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(connection: parameters)
        configuration.logger = .quiet
        adjust(&configuration)
        return configuration
    }

    /// A direct session, outside any client, to set up and inspect.
    static func session() async throws -> LibPQConnection {
        try await LibPQConnection.connect(parameters)
    }

    /// A table name unique to one test, so that tests running in parallel do not meet.
    static func uniqueTable(_ prefix: String) -> String {
        "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
    }
}
