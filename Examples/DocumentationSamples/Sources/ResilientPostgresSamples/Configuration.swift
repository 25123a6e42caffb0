import ResilientPostgres

/// The samples of "Configuration".
package enum ConfigurationSamples {
    /// A client whose every session uses the app's schema and a statement timeout of its own.
    package static func initializedClient() throws -> PostgresClient {
        var configuration = try PostgresClient.Configuration("host=db.internal dbname=orders")
        configuration.sessionInitializer = { session in
            try await session.execute("SET search_path TO orders, public")
            try await session.execute("SET statement_timeout = '15s'")
        }
        let client = PostgresClient(configuration: configuration)
        return client
    }
}
