import PostgresNIO

/// The postgres-nio side of "Migrating from postgres-nio" (the ResilientPostgres side is in
/// `ResilientPostgresSamples`).
package enum MigratingFromPostgresNIO {
    /// A client of the database at `db.internal`, over TLS.
    package static func makeClient(secret: String, tlsConfig: TLSConfiguration) -> PostgresClient {
        let config = PostgresClient.Configuration(
            host: "db.internal", port: 5432, username: "app", password: secret, database: "app",
            tls: .require(tlsConfig)
        )
        let client = PostgresClient(configuration: config)
        // client.run() must be running for the client to work
        return client
    }

    /// Prints the users older than `age`.
    package static func printUsers(olderThan age: Int, client: PostgresClient) async throws {
        let rows = try await client.query("SELECT id, name FROM users WHERE age > \(age)")
        for try await (id, name) in rows.decode((Int, String).self) { print(id, name) }
    }

    /// Records an order, then moves `x` from account `a` to account `b` in a transaction.
    package static func placeOrder(
        key: String, amount: Int, moving x: Int, from a: Int, to b: Int, client: PostgresClient, logger: Logger
    ) async throws {
        try await client.query("INSERT INTO orders (key, amount) VALUES (\(key), \(amount))")
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("UPDATE accounts SET balance = balance - \(x) WHERE id = \(a)", logger: logger)
            try await connection.query("UPDATE accounts SET balance = balance + \(x) WHERE id = \(b)", logger: logger)
        }
    }
}
