import Logging
import PostgresPolicy
import PostgresTransport

/// A pooled PostgreSQL client whose operations retry what is safe to retry, within one time budget each.
///
/// Every operation (``execute(_:parameters:options:)``, ``transaction(options:_:)``) borrows a session from the
/// pool, runs, and on failure asks the ``RetryPolicy`` what to do: retry at once, reconnect, back off, or give up
/// with a ``PostgresError`` that says why. A write whose outcome is unknown is never retried unless declared
/// idempotent. Share one client per database across the whole app; it is safe to use from any task.
public final class PostgresClient: Sendable {
    /// The configuration the client was made with.
    public let configuration: Configuration
    let pool: ConnectionPool
    /// Shared by every operation, so that when most attempts fail, retries stop multiplying the load.
    let throttle = RetryThrottle()

    /// A client for the configured database. No session is opened until the first operation needs one.
    public convenience init(configuration: Configuration) {
        let connector = LibPQConnector(
            parameters: configuration.connection,
            connectTimeout: configuration.connectTimeout,
            options: LibPQConnection.Options(
                cancelGracePeriod: configuration.cancelGracePeriod,
                preparedStatementCapacity: configuration.statementCaching.capacity
            )
        )
        self.init(configuration: configuration, connector: connector)
    }

    /// A client whose sessions come from `connector` (a test double, say) instead of libpq.
    package init(configuration: Configuration, connector: any DatabaseConnector) {
        self.configuration = configuration
        self.pool = ConnectionPool(
            connector: connector,
            options: ConnectionPool.Options(
                maxConnections: configuration.maxConnections,
                idleTimeout: configuration.idleTimeout,
                maxLifetime: configuration.maxLifetime,
                livenessCheckAfterIdle: configuration.livenessCheckAfterIdle
            )
        )
    }

    var logger: Logger { configuration.logger }

    /// Closes every idle session and refuses new operations; sessions in use close when their operation ends.
    public func shutdown() async {
        await pool.shutdown()
    }

    /// Runs one statement with bound parameters and returns its result, retrying as `options` allow.
    package func run(
        _ sql: String,
        parameters: [Parameter],
        resultFormat: ValueFormat,
        options: OperationOptions
    ) async throws -> QueryResult {
        try await withRetries(options.safety(isTransactionBlock: false)) { connection in
            try await connection.execute(
                sql, parameters: parameters, resultFormat: resultFormat, caching: configuration.statementCaching
            )
        }
    }
}
