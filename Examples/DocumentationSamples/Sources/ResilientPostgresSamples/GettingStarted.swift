import ResilientPostgres

/// The app's one client, made once and shared by everything that uses the database.
func makeClient() throws -> PostgresClient {
    PostgresClient(configuration: try .init("postgresql://app@db.internal/app?sslmode=verify-full"))
}

/// The samples of "Getting started".
package enum GettingStarted {
    /// Lists the large orders, records an order that may be retried, and moves an amount between two accounts.
    package static func firstOperations(
        client: PostgresClient, key: String, amount: Int, from: Int, to: Int
    ) async throws {
        let rows = try await client.query(
            "SELECT key, amount FROM orders WHERE amount > \(100) ORDER BY key",
            options: .readOnly
        )
        for row in rows {
            let (key, amount) = try row.decode((String, Int).self)
            print(key, amount)
        }

        try await client.execute(
            "INSERT INTO orders (key, amount) VALUES (\(key), \(amount)) ON CONFLICT (key) DO NOTHING",
            options: .idempotent
        )

        try await client.transaction { tx in
            try await tx.execute("UPDATE accounts SET balance = balance - \(20) WHERE id = \(from)")
            try await tx.execute("UPDATE accounts SET balance = balance + \(20) WHERE id = \(to)")
        }
    }
}
