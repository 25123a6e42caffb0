import PostgresPolicy
import PostgresTransport

/// Decides what a listener does after each step of its session's life: what to report, and how long to wait
/// before the next connect.
///
/// It never reads a clock, never waits and does no I/O: its driver, ``NotificationListener``, tells it what happened
/// (`now` included) and carries out what it returns. It keeps trying forever: a listener has no time budget, only
/// the backoff between attempts, which starts again after each success.
package struct ListenerStateMachine {
    /// Where a session listened: enough to tell, when it listens again, whether the server restarted or another
    /// host took over.
    package struct SessionIdentity: Hashable, Sendable {
        package var host: String?
        package var port: Int?
        /// `pg_postmaster_start_time()` as text: it changes when the server restarts (but not when only a session
        /// ends).
        package var serverStartedAt: String?

        package init(host: String?, port: Int?, serverStartedAt: String?) {
            self.host = host
            self.port = port
            self.serverStartedAt = serverStartedAt
        }
    }

    /// What to do after a failure: report `event`, wait `delay`, connect again.
    package struct Retry {
        package var event: ListenEvent
        package var delay: Duration
    }

    private let backoff: Backoff
    /// Where the listener last listened; nil until it first has.
    private var listenedOn: SessionIdentity?
    /// When the loss since the last listening was noticed, and how it looked; nil while listening.
    private var loss: (noticedAt: ContinuousClock.Instant, failure: TransportError?)?
    /// Since when the listener has been trying (the loss, or its start), with the attempts that failed since.
    private var troubleSince: ContinuousClock.Instant?
    private var failedAttempts = 0
    private var previousDelay: Duration?

    package init(backoff: Backoff) {
        self.backoff = backoff
    }

    /// A session listens (its `LISTEN` ran and its probe came back): the event to deliver before its notifications,
    /// ``ListenEvent/listening`` the first time, a ``ListenEvent/gap(_:)`` after a loss.
    package mutating func listened(on identity: SessionIdentity, now: ContinuousClock.Instant) -> ListenEvent {
        defer {
            listenedOn = identity
            loss = nil
            troubleSince = nil
            failedAttempts = 0
            previousDelay = nil
        }
        guard let previous = listenedOn else { return .listening }
        // A loss is always noted before a new session is set up; "now" covers a machine driven out of order.
        let loss = self.loss ?? (now, nil)
        return .gap(NotificationGap(
            reason: Self.reason(failure: loss.failure, before: previous, after: identity),
            noticedAt: loss.noticedAt, resumedAt: now, failure: loss.failure
        ))
    }

    /// A connect, the `LISTEN`, or the listening session failed (`failure` nil for an error that is not the
    /// connection's): what to report and how long to wait before connecting again.
    ///
    /// The first attempt after losing a listening session comes at once, as the loss is usually of that session
    /// alone (a terminated backend, a dropped connection) or of a primary whose standby is already promoted; later
    /// ones follow the backoff.
    package mutating func failed(
        _ failure: TransportError?,
        now: ContinuousClock.Instant,
        using generator: inout some RandomNumberGenerator
    ) -> Retry {
        if listenedOn != nil, loss == nil {
            loss = (now, failure)
        }
        let since = troubleSince ?? now
        troubleSince = since
        failedAttempts += 1
        let delay: Duration
        if listenedOn != nil, failedAttempts == 1 {
            delay = .zero
        } else {
            let retry = listenedOn != nil ? failedAttempts - 1 : failedAttempts
            delay = backoff.delay(forRetry: retry, previous: previousDelay, using: &generator)
            previousDelay = delay
        }
        return Retry(
            event: .reconnecting(ListenerRetry(
                failedAttempts: failedAttempts, since: since, lastFailure: failure, nextAttemptIn: delay
            )),
            delay: delay
        )
    }

    /// Why a listening session was lost, from how the loss looked and where the next session listened.
    ///
    /// Where the new session is tells more than the error: a restart shows as a new start time whatever the loss
    /// looked like (an immediate shutdown sends no error at all, only a WARNING), a failover as another host.
    package static func reason(
        failure: TransportError?,
        before: SessionIdentity,
        after: SessionIdentity
    ) -> NotificationGap.Reason {
        if before.host != after.host || before.port != after.port { return .failover }
        if before.serverStartedAt != after.serverStartedAt { return .serverRestart }
        switch failure?.sqlState {
        case SQLState.idleSessionTimeout?, SQLState.idleInTransactionSessionTimeout?: return .idleTimeout
        case SQLState.adminShutdown?: return .sessionTerminated
        case SQLState.crashShutdown?, SQLState.cannotConnectNow?: return .serverRestart
        default: return .network  // no word from the server, or a check it did not answer (57014)
        }
    }
}
