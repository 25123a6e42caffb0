public import PostgresTransport

/// What a listener reports, in order: that it listens, each notification, each gap, and that it is still trying to
/// get a session back.
public enum ListenEvent: Sendable {
    /// The first `LISTEN` succeeded: every notification sent from now on is delivered, or covered by a gap.
    ///
    /// Sent once, before any notification: start the initial sync from the table here, and nothing sent after it
    /// is missed.
    case listening
    /// A notification on one of the channels.
    case notification(PostgresNotification)
    /// Notifications may have been missed: resync from the table.
    ///
    /// Sent when listening resumed after the session was lost (between the loss and the new `LISTEN`, nothing was
    /// delivered), and where notifications were dropped because the consumer fell behind.
    case gap(NotificationGap)
    /// The session is lost and the listener is still trying to open a new one; sent after each failed attempt (a
    /// consumer that is behind sees only the latest). A ``gap(_:)`` follows once it listens again.
    case reconnecting(ListenerRetry)
}

/// An interval in which notifications may have been missed, and why.
public struct NotificationGap: Sendable {
    /// Why notifications may have been missed. Reasons can be added without breaking a `switch` with a `default`.
    public struct Reason: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case serverRestart, failover, sessionTerminated, idleTimeout, network, consumerTooSlow
        }

        private let base: Base

        /// The server restarted or crashed (the new session found a server started since), or was shutting down.
        public static let serverRestart = Reason(base: .serverRestart)
        /// The new session is on another host or port of the connection's list: a standby was promoted, or the
        /// old primary is gone. Behind a single DNS name that moved, a failover reads as ``serverRestart``.
        public static let failover = Reason(base: .failover)
        /// The server ended the session while it kept running (`pg_terminate_backend`, 57P01).
        public static let sessionTerminated = Reason(base: .sessionTerminated)
        /// The server ended the session for being idle (`idle_session_timeout`, 57P05).
        public static let idleTimeout = Reason(base: .idleTimeout)
        /// The connection broke with no word from the server: a reset, keepalives or `tcp_user_timeout` gave up
        /// on a network that dropped packets, or the server left a liveness check unanswered.
        public static let network = Reason(base: .network)
        /// The consumer fell behind and the buffer was full: the listener dropped ``NotificationGap/droppedCount``
        /// notifications, in this gap's place.
        public static let consumerTooSlow = Reason(base: .consumerTooSlow)

        public var description: String {
            switch base {
            case .serverRestart: "server restart"
            case .failover: "failover"
            case .sessionTerminated: "session terminated"
            case .idleTimeout: "idle timeout"
            case .network: "network"
            case .consumerTooSlow: "consumer too slow"
            }
        }
    }

    /// Why notifications may have been missed.
    public var reason: Reason
    /// When the listener noticed the loss (or dropped the first notification), on the client's clock.
    public var noticedAt: ContinuousClock.Instant
    /// When it listened again (or had room again): notifications sent from `noticedAt` until then may be missing,
    /// and a little before `noticedAt` too, as a lost connection is noticed late.
    public var resumedAt: ContinuousClock.Instant
    /// How the session was lost, as the connection reported it; nil for ``Reason/consumerTooSlow``.
    public var failure: TransportError?
    /// How many notifications were dropped, for ``Reason/consumerTooSlow``; 0 otherwise.
    public var droppedCount: Int

    /// A gap from its facts.
    public init(
        reason: Reason,
        noticedAt: ContinuousClock.Instant,
        resumedAt: ContinuousClock.Instant,
        failure: TransportError? = nil,
        droppedCount: Int = 0
    ) {
        self.reason = reason
        self.noticedAt = noticedAt
        self.resumedAt = resumedAt
        self.failure = failure
        self.droppedCount = droppedCount
    }
}

/// A listener still trying to open a session and `LISTEN`: for a status line, or an alert when it lasts.
public struct ListenerRetry: Sendable {
    /// The attempts that failed since the listener last listened (or since it started), from 1.
    public var failedAttempts: Int
    /// Since when the listener has not been listening, on the client's clock.
    public var since: ContinuousClock.Instant
    /// Why the last attempt failed (or how the session was lost), as the connection reported it.
    public var lastFailure: TransportError?
    /// The wait before the next attempt.
    public var nextAttemptIn: Duration

    /// A retry from its facts.
    public init(
        failedAttempts: Int,
        since: ContinuousClock.Instant,
        lastFailure: TransportError?,
        nextAttemptIn: Duration
    ) {
        self.failedAttempts = failedAttempts
        self.since = since
        self.lastFailure = lastFailure
        self.nextAttemptIn = nextAttemptIn
    }
}
