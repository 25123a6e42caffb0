import Foundation
import PostgresTransport
import ResilientPostgres
import Testing

/// The server `make test` starts, for the coding round trips.
enum CodingTestServer {
    static let environment = ProcessInfo.processInfo.environment

    static func connect() async throws -> LibPQConnection {
        try await LibPQConnection.connect(
            ConnectionParameters(options: [
                "host": environment["POSTGRES_HOST"] ?? "127.0.0.1", "port": environment["POSTGRES_PORT"] ?? "5432",
                "user": environment["POSTGRES_USER"] ?? "postgres", "dbname": environment["POSTGRES_DB"] ?? "postgres",
            ])
        )
    }
}

extension LibPQConnection {
    /// Runs a query and wraps its result as rows.
    func rows(_ query: PostgresQuery, format: ValueFormat = .binary) async throws -> PostgresRows {
        PostgresRows(try await execute(query.sql, parameters: query.parameters, resultFormat: format))
    }

    /// Sends a value as `$1::type` and decodes what the server sends back.
    func roundTrip<T: PostgresEncodable & PostgresDecodable>(
        _ value: T, as type: String, format: ValueFormat
    ) async throws -> T {
        let rows = try await rows(PostgresQuery(unsafeSQL: "SELECT $1::\(type)", binding: [value]), format: format)
        return try rows[0].decode(T.self, column: 0)
    }
}
