import PostgresPolicy
import PostgresTransport

/// Decides what a listener does after each step of its session's life: what to report, and how long to wait
/// before the next connect.
///
/// It never reads a clock, never waits and does no I/O: its driver, ``NotificationListener``, tells it what happened
/// (`now` included) and carries out what it returns. It keeps trying forever: a listener has no time budget, only
/// the backoff between attempts, which starts again only after a session that stayed up for the backoff's cap, so
/// that sessions that die right after `LISTEN` (a watchdog that terminates them, a proxy that cuts them) are retried
/// ever more slowly, not in a tight loop.
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
    /// When the listener last listened; nil until it first has.
    private var listenedAt: ContinuousClock.Instant?
    /// Since when the listener has been trying (the loss, or its start), with the attempts that failed since.
    private var troubleSince: ContinuousClock.Instant?
    private var failedAttempts = 0
    /// The backoff's count of retries, and its last delay: kept through a session that did not stay up for long.
    private var retries = 0
    private var previousDelay: Duration?

    package init(backoff: Backoff) {
        self.backoff = backoff
    }

    /// A session listens (its `LISTEN` ran and its probe came back): the event to deliver before its notifications,
    /// ``ListenEvent/listening`` the first time, a ``ListenEvent/gap(_:)`` after a loss.
    package mutating func listened(on identity: SessionIdentity, now: ContinuousClock.Instant) -> ListenEvent {
        defer {
            listenedOn = identity
            listenedAt = now
            loss = nil
            troubleSince = nil
            failedAttempts = 0
        }
        guard let previous = listenedOn else { return .listening }
        // A loss is always noted before a new session is set up; "now" covers a machine driven out of order.
        let loss = self.loss ?? (now, nil)
        return .gap(NotificationGap(
            reason: Self.reason(failure: loss.failure, before: previous, after: identity),
            noticedAt: loss.noticedAt, resumedAt: now, failure: loss.failure
        ))
    }

    /// Whether the listener has listened at least once: after that, a probe that does not come back is a loss to
    /// retry, not a sign of a pooler.
    package var hasListened: Bool { listenedOn != nil }

    /// A connect, the `LISTEN`, or the listening session failed (`failure` nil for an error that is not the
    /// connection's): what to report and how long to wait before connecting again.
    ///
    /// The first attempt after losing a session that stayed up for the backoff's cap comes after a random moment
    /// within the backoff's first delay, as the loss is usually of that session alone (a terminated backend, a
    /// dropped connection) or of a primary whose standby is already promoted, and listeners that lost their
    /// sessions together should not return together; later ones follow the backoff. After a session that died
    /// sooner, the backoff goes on from where it was.
    package mutating func failed(
        _ failure: TransportError?,
        now: ContinuousClock.Instant,
        using generator: inout some RandomNumberGenerator
    ) -> Retry {
        if let listenedAt, loss == nil {
            loss = (now, failure)
            if listenedAt.duration(to: now) >= backoff.cap {
                retries = 0
                previousDelay = nil
            }
        }
        let since = troubleSince ?? now
        troubleSince = since
        failedAttempts += 1
        let delay: Duration
        if listenedAt != nil, retries == 0 {
            let first = backoff.nominalDelay(forRetry: 1)
            delay = .nanoseconds(Int64.random(in: 0...max(0, Self.nanoseconds(first)), using: &generator))
        } else {
            delay = backoff.delay(forRetry: retries + (listenedAt == nil ? 1 : 0), previous: previousDelay,
                                  using: &generator)
            previousDelay = delay
        }
        retries += 1
        return Retry(
            event: .reconnecting(ListenerRetry(
                failedAttempts: failedAttempts, since: since, lastFailure: failure, nextAttemptIn: delay
            )),
            delay: delay
        )
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
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
