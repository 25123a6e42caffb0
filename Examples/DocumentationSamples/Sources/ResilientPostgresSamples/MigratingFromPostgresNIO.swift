import ResilientPostgres

/// The ResilientPostgres side of "Migrating from postgres-nio" (the postgres-nio side is in `PostgresNIOSamples`).
package enum MigratingFromPostgresNIO {
    /// A client of the database at `db.internal`, verifying its certificate.
    package static func makeClient(secret: String) throws -> PostgresClient {
        var config = try PostgresClient.Configuration("host=db.internal dbname=app user=app sslmode=verify-full")
        config.connection["password"] = secret
        let client = PostgresClient(configuration: config)
        // client.run() is optional: in a ServiceGroup, it opens the idle minimum at start and shuts down with the app
        return client
    }

    /// Prints the users older than `age`.
    package static func printUsers(olderThan age: Int, client: PostgresClient) async throws {
        let rows = try await client.query("SELECT id, name FROM users WHERE age > \(age)", options: .readOnly)
        for (id, name) in try rows.decode((Int, String).self) { print(id, name) }
    }

    /// Records an order, then moves `x` from account `a` to account `b` in a transaction.
    package static func placeOrder(
        key: String, amount: Int, moving x: Int, from a: Int, to b: Int, client: PostgresClient
    ) async throws {
        try await client.execute("INSERT INTO orders (key, amount) VALUES (\(key), \(amount))")
        try await client.transaction { tx in
            try await tx.execute("UPDATE accounts SET balance = balance - \(x) WHERE id = \(a)")
            try await tx.execute("UPDATE accounts SET balance = balance + \(x) WHERE id = \(b)")
        }
    }

    /// What became of a sign-up.
    package enum Registration: Sendable, Hashable {
        /// The user was inserted.
        case registered
        /// The email is taken: 23505, a unique violation.
        case alreadyRegistered
        /// Another integrity constraint refused the row: any other code of class 23.
        case refused
    }

    /// Registers a user by email, telling a taken email from other refusals by the SQLSTATE.
    package static func register(email: String, client: PostgresClient) async throws -> Registration {
        do {
            try await client.execute("INSERT INTO users (email) VALUES (\(email))")
            return .registered
        } catch SQLState.uniqueViolation {
            return .alreadyRegistered  // 23505, one code
        } catch SQLState.Class.integrityConstraintViolation {
            return .refused            // any other code of class 23
        }
    }
}
