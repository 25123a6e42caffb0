import PostgresPolicy

/// The limits and paces of a client's connection pool, taken from its configuration.
package struct PoolOptions: Sendable {
    package var maxConnections: Int
    /// The most connects under way at once, for operations and minimum idle sessions (the prober's one aside):
    /// operations that would open more wait for one of those to end or for a session to come back.
    package var maxConcurrentConnects: Int
    /// The longest the pool holds its connects at the start of a wave (its first connect, and the first after it
    /// lost sessions): a delay drawn at random below it, so that instances started or cut off together do not
    /// connect in lockstep. Zero holds nothing.
    package var connectJitter: Duration
    package var minimumIdleConnections: Int
    package var idleTimeout: Duration
    package var maxLifetime: Duration
    /// How much shorter than ``maxLifetime`` a session's lifetime may be: each session's is drawn at random between
    /// `maxLifetime - lifetimeSpread` and `maxLifetime`, so that sessions opened together are not replaced together.
    package var lifetimeSpread: Duration
    package var livenessCheckAfterIdle: Duration
    package var connectTimeout: Duration
    /// The prober's pace while the database is unreachable.
    package var reconnectBackoff: Backoff
    /// The prober's pace while the server refuses sessions for want of slots (53300): back-pressure, not an
    /// outage, so the waits are the retry policy's longer ones for resource limits.
    package var resourceLimitBackoff: Backoff
    /// How long a liveness check of a session idle past ``livenessCheckAfterIdle`` may take, and a reset of a
    /// session app code used.
    package var livenessCheckTimeout: Duration
    /// Seeds the jitter of the prober's waits; nil draws a random seed.
    package var randomSeed: UInt64?

    package init(
        maxConnections: Int,
        minimumIdleConnections: Int,
        idleTimeout: Duration,
        maxLifetime: Duration,
        livenessCheckAfterIdle: Duration,
        connectTimeout: Duration,
        reconnectBackoff: Backoff,
        resourceLimitBackoff: Backoff,
        livenessCheckTimeout: Duration = .seconds(5),
        randomSeed: UInt64?,
        lifetimeSpread: Duration = .zero,
        maxConcurrentConnects: Int = .max,
        connectJitter: Duration = .zero
    ) {
        precondition(maxConcurrentConnects >= 1, "a pool needs at least one connect at a time")
        self.maxConnections = maxConnections
        self.maxConcurrentConnects = maxConcurrentConnects
        self.connectJitter = max(connectJitter, .zero)
        self.minimumIdleConnections = minimumIdleConnections
        self.idleTimeout = idleTimeout
        self.maxLifetime = maxLifetime
        self.lifetimeSpread = min(max(lifetimeSpread, .zero), maxLifetime)
        self.livenessCheckAfterIdle = livenessCheckAfterIdle
        self.connectTimeout = connectTimeout
        self.reconnectBackoff = reconnectBackoff
        self.resourceLimitBackoff = resourceLimitBackoff
        self.livenessCheckTimeout = livenessCheckTimeout
        self.randomSeed = randomSeed
    }
}
