import Foundation
import Logging
import PostgresTransport
import ResilientPostgres
import Testing

/// The main server `make test` starts, from the `POSTGRES_*` variables it exports.
enum ClientTestServer {
    static let environment = ProcessInfo.processInfo.environment
    static let isAvailable = environment["POSTGRES_PORT"] != nil
    static let skipReason: Comment = "needs the PostgreSQL servers that `make test` starts (POSTGRES_* unset)"

    static var parameters: ConnectionParameters {
        ConnectionParameters(options: [
            "host": environment["POSTGRES_HOST"] ?? "127.0.0.1",
            "port": environment["POSTGRES_PORT"] ?? "5432",
            "user": environment["POSTGRES_USER"] ?? "postgres",
            "dbname": environment["POSTGRES_DB"] ?? "postgres",
        ])
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
