import PostgresNIO
import ResilientPostgres

// Both modules declare PostgresClient, PostgresQuery, PostgresRow and nine more names: a file that imports both
// says which it means, by the module's name or through a typealias of its own.
typealias NIOClient = PostgresNIO.PostgresClient
typealias ResilientClient = ResilientPostgres.PostgresClient

/// Copies users from the database the app reaches through postgres-nio into one it reaches through ResilientPostgres.
func copyUsers(from old: NIOClient, to new: ResilientClient, logger: Logger) async throws {
    let rows = try await old.query("SELECT id, name FROM users", logger: logger)
    for try await (id, name) in rows.decode((Int, String).self) {
        try await new.execute(
            "INSERT INTO users (id, name) VALUES (\(id), \(name)) ON CONFLICT (id) DO NOTHING",
            options: .idempotent
        )
    }
}

/// The rows of a ResilientPostgres query, as pairs: `PostgresRows` is a name of one module only, `PostgresRow` not.
func pairs(_ rows: PostgresRows) throws -> [(Int, String)] {
    try rows.map { (row: ResilientPostgres.PostgresRow) in try row.decode((Int, String).self) }
}
