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
    /// delivered), and where notifications were dropped because the consumer fell behind. Gaps in a row that the
    /// consumer has not taken yet merge into one, from the first's start to the last's end, with the first's reason:
    /// a restart followed by a failover reads as one ``NotificationGap/Reason/serverRestart`` gap.
    case gap(NotificationGap)
    /// The listener is not listening and is still trying: sent when the session is lost and after each attempt to
    /// open one that failed, before the first `LISTEN` too (a consumer that is behind sees only the latest). A
    /// ``gap(_:)`` follows once it listens again (``listening``, the first time).
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
    /// and some before `noticedAt` too, as a lost connection is noticed late: at once when the server closes it,
    /// but only when keepalives or `tcp_user_timeout` give up on a network that drops packets (about 25 seconds
    /// with the default settings).
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
    /// The failures since the listener last listened, from 1: the loss of its session counts as the first, then
    /// each attempt to open a new one that failed (before the first `LISTEN`, each failed attempt).
    public var failedAttempts: Int
    /// When the first of those failures happened, on the client's clock: since then the listener has not been
    /// listening.
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
