import ResilientPostgres

/// The sample of "Failover and high availability".
package enum FailoverAndHighAvailability {
    /// A configuration listing every host the primary may be on.
    package static func configuration() throws -> PostgresClient.Configuration {
        let configuration = try PostgresClient.Configuration(
            "host=db-a.internal,db-b.internal port=5432 dbname=app user=app sslmode=verify-full"
        )
        return configuration
    }
}
