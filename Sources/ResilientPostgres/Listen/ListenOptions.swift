/// How a listener buffers and checks its session; see ``PostgresClient/listen(to:options:)-(String...,_)``.
public struct ListenOptions: Sendable, Hashable {
    /// The most notifications kept for a consumer that has not taken them yet (at least 1). When full, newer ones
    /// are dropped and reported as one ``NotificationGap/Reason/consumerTooSlow`` gap, in their place, once the
    /// consumer has taken half of what is kept.
    public var bufferCapacity: Int
    /// How long the listener waits, after each `LISTEN`, for the notification it sends itself to come back.
    ///
    /// Directly connected, it comes back within one round trip, from the session's own process. When it does not,
    /// or comes from another process, the session is behind a pooler in transaction mode, where `LISTEN` cannot
    /// work, and the listener stops with ``ListenerError/Code/behindTransactionPooler``.
    public var probeTimeout: Duration
    /// How long the session may stay silent before the listener checks it with a round trip (an empty statement,
    /// within the connect timeout); nil, the default, never checks.
    ///
    /// Keepalives and `tcp_user_timeout` notice a peer that is gone, but not a server that hangs while its host's
    /// kernel still answers (a stopped process, say): a check notices it within the interval, the connect timeout
    /// and the cancel grace period, and the listener reconnects.
    public var livenessCheckInterval: Duration?

    /// Options with the defaults: 10,000 notifications buffered, 5 seconds for the probe, and no liveness check.
    public init(
        bufferCapacity: Int = 10_000,
        probeTimeout: Duration = .seconds(5),
        livenessCheckInterval: Duration? = nil
    ) {
        precondition(bufferCapacity >= 1, "a listener buffers at least one notification")
        self.bufferCapacity = bufferCapacity
        self.probeTimeout = probeTimeout
        self.livenessCheckInterval = livenessCheckInterval
    }
}
