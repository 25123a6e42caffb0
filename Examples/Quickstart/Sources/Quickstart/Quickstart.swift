import ResilientPostgres

/// Connects, writes in a retried transaction, and reads the rows back.
///
/// Where the database is comes from the first argument (a libpq connection string or a `postgresql://` URL) or,
/// without one, from libpq's environment variables (`PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`, `PGPASSWORD`).
@main
struct Quickstart {
    static func main() async throws {
        let connectionString = CommandLine.arguments.dropFirst().first ?? ""
        let client = PostgresClient(configuration: try .init(connectionString))

        do {
            try await run(client)
        } catch let error as PostgresError {
            print("failed: \(error)")
            await client.shutdown()
            throw error
        }
        await client.shutdown()
    }

    static func run(_ client: PostgresClient) async throws {
        try await client.execute("""
            CREATE TABLE IF NOT EXISTS orders (
                key text PRIMARY KEY,
                amount bigint NOT NULL,
                placed_at timestamptz NOT NULL DEFAULT now()
            )
            """)

        // Keyed by an idempotency key, so running it twice changes nothing: the client may retry it whatever happens.
        for (key, amount) in [("order-1", 120), ("order-2", 80), ("order-3", 250)] {
            try await client.execute(
                "INSERT INTO orders (key, amount) VALUES (\(key), \(amount)) ON CONFLICT (key) DO NOTHING",
                options: .idempotent
            )
        }

        // The whole block runs again if the server rolls it back (serialization failure, deadlock, lost session).
        try await client.transaction { tx in
            try await tx.execute("UPDATE orders SET amount = amount - \(20) WHERE key = \("order-3")")
            try await tx.execute("UPDATE orders SET amount = amount + \(20) WHERE key = \("order-1")")
        }

        let rows = try await client.query(
            "SELECT key, amount FROM orders WHERE amount > \(100) ORDER BY key",
            options: .readOnly
        )
        for row in rows {
            let (key, amount) = try row.decode((String, Int).self)
            print("\(key): \(amount)")
        }
    }
}
