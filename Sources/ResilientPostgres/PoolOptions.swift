import PostgresPolicy

/// The limits and paces of a client's connection pool, taken from its configuration.
struct PoolOptions: Sendable {
    var maxConnections: Int
    var minimumIdleConnections: Int
    var idleTimeout: Duration
    var maxLifetime: Duration
    var livenessCheckAfterIdle: Duration
    var connectTimeout: Duration
    /// The prober's pace while the database is unreachable.
    var reconnectBackoff: Backoff
    /// The prober's pace while the server refuses sessions for want of slots (53300): back-pressure, not an
    /// outage, so the waits are the retry policy's longer ones for resource limits.
    var resourceLimitBackoff: Backoff
    /// How long a liveness check of a session idle past ``livenessCheckAfterIdle`` may take, and a reset of a
    /// session app code used.
    var livenessCheckTimeout: Duration = .seconds(5)
    /// Seeds the jitter of the prober's waits; nil draws a random seed.
    var randomSeed: UInt64?
}
