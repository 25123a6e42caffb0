import Logging
import PostgresPolicy
import PostgresTransport
import Synchronization

/// A pooled PostgreSQL client whose operations retry what is safe to retry, within one time budget each.
///
/// Every operation (``query(_:options:)``, ``execute(_:options:)``, ``transaction(options:isolation:_:)``,
/// ``withConnection(options:isolation:_:)``) borrows a session from the pool, runs, and on failure asks the
/// ``RetryPolicy`` what to do: retry at once, reconnect, back off, or give up with a ``PostgresError`` that says why. A
/// write whose outcome is unknown is never retried unless declared idempotent. Share one client per database across the
/// whole app; it is safe to use from any task.
public final class PostgresClient: Sendable {
    /// The configuration the client was made with.
    public let configuration: Configuration
    /// The sessions the operations run on.
    package let pool: ConnectionPool
    /// Opens the sessions of listeners (`listen(to:)`), outside the pool.
    let listenConnector: any DatabaseConnector
    /// The listeners running, which ``shutdown()`` stops.
    let listeners = ListenerRegistry()
    /// The clean-ups of streams stopped early, which ``shutdown()`` waits for.
    let streamCleanups = StreamCleanups()
    /// Shared by every operation, so that when most attempts fail, retries stop multiplying the load.
    let throttle: RetryThrottle?
    let clock: any ClientClock
    let metrics: ClientMetrics
    /// Where sessions get their credential, when the configuration names a provider.
    let credentials: CredentialCache?
    /// Where writes with ``OperationOptions/verifiedCommit`` record their commits.
    let commitMarkers: CommitMarkers
    /// Seeds each operation's jitter; seeded itself when the client is built for a test.
    private let seeds: Mutex<SplitMix64>

    /// A client for the configured database. No session is opened until the first operation needs one.
    public convenience init(configuration: Configuration) {
        let connector = LibPQConnector(
            parameters: configuration.connection,
            connectTimeout: configuration.connectTimeout,
            options: LibPQConnection.Options(
                cancelGracePeriod: configuration.cancelGracePeriod,
                preparedStatementCapacity: configuration.statementCaching.capacity,
                hostConnectTimeout: configuration.hostConnectTimeout
            )
        )
        let listenConnector = configuration.listenConnection.map {
            LibPQConnector(
                parameters: Configuration(connection: $0).connection,
                connectTimeout: configuration.connectTimeout,
                options: LibPQConnection.Options(
                    cancelGracePeriod: configuration.cancelGracePeriod,
                    hostConnectTimeout: configuration.hostConnectTimeout
                )
            )
        }
        self.init(configuration: configuration, connector: connector, listenConnector: listenConnector)
    }

    /// A client whose sessions come from `connector` and whose time comes from `clock` (test doubles, say).
    ///
    /// With a `randomSeed`, every jitter the client draws is reproducible. Listeners open their sessions with
    /// `listenConnector`, or with `connector` when it is nil.
    package init(
        configuration: Configuration,
        connector: any DatabaseConnector,
        listenConnector: (any DatabaseConnector)? = nil,
        clock: any ClientClock = ContinuousClock(),
        randomSeed: UInt64? = nil
    ) {
        self.configuration = configuration
        self.clock = clock
        self.credentials = configuration.credentials.map { CredentialCache(provider: $0, clock: clock) }
        self.metrics = ClientMetrics(prefix: configuration.metricsLabelPrefix)
        self.commitMarkers = CommitMarkers(
            table: configuration.commitMarkerTable, operationBudget: configuration.retryPolicy.budget
        )
        self.seeds = Mutex(randomSeed.map(SplitMix64.init(seed:)) ?? SplitMix64())
        self.throttle = configuration.retryThrottle.map {
            RetryThrottle(maxTokens: $0.maxTokens, tokenRatio: $0.tokenRatio)
        }
        let listenConnector = listenConnector ?? connector
        self.listenConnector = credentials.map { CredentialedConnector(base: listenConnector, credentials: $0) }
            ?? listenConnector
        self.pool = ConnectionPool(
            connector: credentials.map { CredentialedConnector(base: connector, credentials: $0) } ?? connector,
            initializer: configuration.sessionInitializer.map {
                SessionInitializer(body: $0, statementCaching: configuration.statementCaching)
            },
            options: PoolOptions(
                maxConnections: configuration.maxConnections,
                minimumIdleConnections: configuration.minimumIdleConnections,
                idleTimeout: configuration.idleTimeout,
                maxLifetime: configuration.maxLifetime,
                livenessCheckAfterIdle: configuration.livenessCheckAfterIdle,
                connectTimeout: configuration.connectTimeout,
                reconnectBackoff: configuration.reconnectBackoff,
                resourceLimitBackoff: configuration.retryPolicy.resourceLimitBackoff,
                randomSeed: randomSeed,
                lifetimeSpread: configuration.maxLifetime * configuration.lifetimeSpreadFraction,
                maxConcurrentConnects: max(1, configuration.maxConcurrentConnects),
                connectJitter: configuration.connectJitter
            ),
            clock: clock,
            // Gauges that record nowhere are not worth the pool's updating them.
            metrics: metrics.isRecorded ? metrics : nil
        )
    }

    var logger: Logger { configuration.logger }

    /// A fresh jitter source for one operation.
    func makeGenerator() -> SplitMix64 {
        SplitMix64(seed: seeds.withLock { $0.next() })
    }

    /// Closes every idle session and refuses new operations; sessions in use close when their operation ends.
    ///
    /// A credential fetch under way, and a prune of the commit marker table, are cancelled, and waited for. Listeners
    /// stop (their iterations end) and their sessions are closed before it returns, as are the sessions of streams
    /// whose consumers stopped early: new operations are refused first, then those sessions are closed without
    /// waiting for their statements to stop.
    public func shutdown() async {
        await listeners.shutdown()
        await commitMarkers.shutDown()
        await pool.shutdown()
        await streamCleanups.shutdown()
        await credentials?.shutdown()
    }

    /// Runs one statement with bound parameters and returns its result, retrying as `options` allow.
    ///
    /// Runs on the caller's executor, as the retry loop does (see ``withRetries(_:_:)``); the public entry points
    /// that call it leave the caller's actor. Always inlined into them: one async layer less for every statement.
    @inline(__always)
    package nonisolated(nonsending) func run(
        _ sql: String,
        parameters: [Parameter],
        resultFormat: ValueFormat,
        options: OperationOptions
    ) async throws -> QueryResult {
        try await withRetries(options.safety(isTransactionBlock: false)) { connection, _, deadline in
            try await connection.execute(
                sql, parameters: parameters, resultFormat: resultFormat, caching: configuration.statementCaching,
                deadline: deadline
            )
        }
    }
}
