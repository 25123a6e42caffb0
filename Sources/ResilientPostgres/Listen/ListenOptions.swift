/// How a listener buffers and checks its session; see ``PostgresClient/listen(to:options:)-(String...,_)``.
public struct ListenOptions: Sendable, Hashable {
    /// The most notifications kept for a consumer that has not taken them yet (at least 1). When full, newer ones
    /// are dropped and reported as one ``NotificationGap/Reason/consumerTooSlow`` gap, in their place, once the
    /// consumer has taken half of what is kept.
    public var bufferCapacity: Int
    /// How long the listener waits, after each `LISTEN`, for the notification it sends itself to come back.
    ///
    /// Directly connected, it comes back within one round trip, from the session's own process. When it does not,
    /// the listener checks the session with a round trip: a session that does not answer is lost, and replaced; one
    /// that answers while the notification stays away is behind a pooler in transaction mode, where `LISTEN` cannot
    /// work, and the listener stops with ``ListenerError/Code/behindPooler``, unless it has listened on this target
    /// before, in which case it takes this for a loss and connects again.
    public var probeTimeout: Duration
    /// Whether the listener stops with ``ListenerError/Code/behindPooler`` when its probe comes back from another
    /// server process than the session's own, as it does through any pooler; true by default.
    ///
    /// PgBouncer and the like give every client a made-up process id, in session mode as in transaction mode, so the
    /// listener cannot tell the two apart and refuses both. `LISTEN` works through a pooler in session mode, which
    /// keeps the server session for the client's whole session: set this to false for such a pooler. A pooler in
    /// transaction mode then goes unnoticed as long as the probe comes back by chance.
    public var refusesPoolers: Bool
    /// How long the session may stay silent before the listener checks it with a round trip (an empty statement,
    /// within the connect timeout); nil, the default, never checks.
    ///
    /// Keepalives and `tcp_user_timeout` notice a peer that is gone, but not a server that hangs while its host's
    /// kernel still answers (a stopped process, say): a check notices it within the interval, the connect timeout
    /// and the cancel grace period, and the listener reconnects.
    public var livenessCheckInterval: Duration?

    /// Options with the defaults: 10,000 notifications buffered, 5 seconds for the probe, poolers refused, and no
    /// liveness check.
    public init(
        bufferCapacity: Int = 10_000,
        probeTimeout: Duration = .seconds(5),
        refusesPoolers: Bool = true,
        livenessCheckInterval: Duration? = nil
    ) {
        precondition(bufferCapacity >= 1, "a listener buffers at least one notification")
        self.bufferCapacity = bufferCapacity
        self.probeTimeout = probeTimeout
        self.refusesPoolers = refusesPoolers
        self.livenessCheckInterval = livenessCheckInterval
    }
}
