import PostgresTransport
import ResilientPostgres

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
