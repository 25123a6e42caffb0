import ResilientPostgres

/// The sample of the module's overview.
package enum Overview {
    /// Moves `amount` between two accounts in a transaction that the client runs again if the server rolls it back.
    package static func transfer(amount: Int, from: Int, to: Int) async throws {
        let client = PostgresClient(configuration: try .init("postgresql://app@db-a,db-b/app?sslmode=verify-full"))
        try await client.transaction { tx in
            try await tx.execute("UPDATE accounts SET balance = balance - \(amount) WHERE id = \(from)")
            try await tx.execute("UPDATE accounts SET balance = balance + \(amount) WHERE id = \(to)")
        }
        await client.shutdown()
    }
}
