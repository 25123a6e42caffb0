import ResilientPostgres

/// The samples of "Listening for notifications" (its loop is the `CacheInvalidation` example's).
package enum ListeningForNotifications {
    /// A configuration whose listeners notice a dead peer within a few seconds.
    package static func configuration() throws -> PostgresClient.Configuration {
        var configuration = try PostgresClient.Configuration("host=db-a.internal,db-b.internal dbname=app user=app")
        configuration.listenConnection = try ConnectionParameters(
            "host=db-a.internal,db-b.internal dbname=app user=app keepalives_idle=2 keepalives_interval=1 keepalives_count=3"
        )
        return configuration
    }

    /// A price change that notifies listeners only if it commits.
    package static func changePrice(_ client: PostgresClient, id: Int, cents: Int) async throws {
        try await client.transaction { tx in
            try await tx.execute("UPDATE products SET price_cents = \(cents) WHERE id = \(id)")
            try await tx.execute("SELECT pg_notify('prices', \(String(id)))")
        }
    }
}
