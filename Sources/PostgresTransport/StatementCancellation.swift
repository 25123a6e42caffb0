import Foundation
import PostgresPolicy
import Synchronization

/// The cancellation state of the statement a connection is running: whether a cancel was requested (by the
/// caller's task or by the statement's deadline) and until when the server gets to answer it.
///
/// A request sends `PQcancel` on a thread of ``BlockingPool/cancels`` and bounds the statement's remaining wait by
/// the grace period; a server that does not answer by then is treated as hung, and the connection is closed.
///
/// A cancel request names the session, not the statement: the server cancels whatever the session runs when the
/// request arrives. The statement can finish while the request is on its way, so the next statement on the session
/// must not start until the send is over (see ``waitForCancelInFlight(until:)``).
final class StatementCancellation: Sendable {
    enum Reason: Sendable {
        case task
        case deadline
    }

    /// How a wait for a cancel request still being sent ended.
    enum InFlightOutcome: Sendable {
        /// No cancel request is on its way: a statement can start.
        case settled
        /// The waiting task was cancelled.
        case cancelled
        /// The waiting statement's own deadline passed.
        case deadlinePassed
        /// The send outlasted its grace period: the cancel path to the server is hung.
        case hung
    }

    private struct State {
        var generation: UInt64 = 0
        var isActive = false
        /// The running statement's waits on its socket, which a cancel request shortens.
        var registration = SocketReadiness.Registration(id: 0, descriptor: -1)
        var reason: Reason?
        /// The request's grace deadline, as an offset: an instant of known size, where a `ContinuousClock.Instant`
        /// would make every statement's `begin` and `end` copy the state through value witnesses.
        var graceDeadline: OffsetInstant?
        /// Whether the statement's wait was ended because the connection was closed under it.
        var isInterrupted = false
        /// While a cancel request may still be on its way to the server (queued, or `PQcancel` not yet returned):
        /// the grace deadline of that request. Nil when no request is in flight.
        var inFlightUntil: OffsetInstant?
        /// The next statement, waiting for the request in flight to be sent.
        var inFlightWaiter: UnsafeContinuation<Void, Never>?
    }

    private let state = Mutex(State())
    /// `reason != nil` and `inFlightUntil != nil` of `state`, written under its lock beside them and read without
    /// it: every wait asks the one and every statement the other, and a read of `State`, whose instants are of a size
    /// known only at run time, costs hundreds of instructions through their value witnesses. A request is made for a
    /// running statement, under the lock that the statement's ``end()`` takes after it: the next statement, which
    /// starts after that, sees it in flight. A reader that sees a flag set goes on to read `state` under the lock.
    private let hasRequest = Atomic(false)
    private let hasRequestInFlight = Atomic(false)
    private let token: CancelToken?
    /// How long the server gets to answer a cancel request.
    let grace: Duration
    /// Where the connection's socket waits are registered.
    private let readiness: SocketReadiness

    init(token: CancelToken?, grace: Duration, readiness: SocketReadiness) {
        self.token = token
        self.grace = grace
        self.readiness = readiness
    }

    /// Marks the start of a statement on the connection's socket; returns the registration its waits use.
    func begin(descriptor: Int32) -> SocketReadiness.Registration {
        let registration = readiness.register(descriptor)
        state.withLock { state in
            state.generation &+= 1
            state.isActive = true
            state.registration = registration
            state.reason = nil
            hasRequest.store(false, ordering: .releasing)
            state.graceDeadline = nil
            state.isInterrupted = false
        }
        return registration
    }

    /// Marks the end of the statement; later requests do nothing.
    func end() {
        state.withLock { state in
            state.isActive = false
            // A cancel request or a close may have left a deadline for a wait that never came.
            if state.reason != nil || state.isInterrupted { readiness.discardPendingDeadline(of: state.registration) }
        }
    }

    /// Ends the running statement's wait for its socket at once, and any it starts later: the connection was
    /// closed, and its socket with it, which epoll forgets without waking anyone.
    func interruptWait() {
        state.withLock { state in
            guard state.isActive else { return }
            state.isInterrupted = true
            readiness.shortenDeadline(of: state.registration, to: .now)
        }
    }

    /// Why a cancel was requested for the running statement, and until when its answer is awaited; nil if none was.
    ///
    /// Kept after ``end()`` until the next ``begin(descriptor:)``, so that a statement's failure can be explained
    /// after it ended; a statement that made no `begin` must not read it, as it may be an earlier statement's.
    var request: (reason: Reason, graceDeadline: ContinuousClock.Instant)? {
        state.withLock { state in
            guard let reason = state.reason, let graceDeadline = state.graceDeadline else { return nil }
            return (reason, ContinuousClock.Instant(graceDeadline))
        }
    }

    /// Whether a cancel was requested for the running statement: ``request`` without its instant, for a statement's
    /// socket wait to ask without an instant in the common case that none was (an instant held by an async
    /// function takes an allocation of its own).
    var isRequested: Bool {
        hasRequest.load(ordering: .acquiring)
    }

    /// Asks the server to cancel the running statement (once per statement); safe to call from any thread.
    ///
    /// `registration`, when given, is the one ``begin(descriptor:)`` returned for the statement to cancel: a request
    /// for it made once another statement has begun (by a cancellation handler that outlived its statement) does
    /// nothing.
    func requestCancel(_ reason: Reason, for registration: SocketReadiness.Registration? = nil) {
        let generation = state.withLock { state -> UInt64? in
            guard state.isActive, state.reason == nil else { return nil }
            if let registration, registration != state.registration { return nil }
            let graceDeadline = ContinuousClock.now.advanced(by: grace)
            state.reason = reason
            hasRequest.store(true, ordering: .releasing)
            state.graceDeadline = OffsetInstant(graceDeadline)
            if token != nil {
                // Marked in flight in the same critical section that decides to send, so that no statement can
                // start between the decision and the send.
                state.inFlightUntil = OffsetInstant(graceDeadline)
                hasRequestInFlight.store(true, ordering: .releasing)
            }
            // Under this lock, so that `end` cannot run in between and leave the deadline pending for good.
            readiness.shortenDeadline(of: state.registration, to: graceDeadline)
            return state.generation
        }
        guard let generation, let token else { return }
        BlockingPool.cancels.submit { [self] in
            // A statement that already ended needs no cancel. One that ends during the send is why the next
            // statement waits for this request (see waitForCancelInFlight).
            if state.withLock({ $0.isActive && $0.generation == generation }) {
                _ = token.send()
            }
            let waiter = state.withLock { state in
                state.inFlightUntil = nil
                hasRequestInFlight.store(false, ordering: .releasing)
                return state.inFlightWaiter.take()
            }
            waiter?.resume()
        }
    }

    /// Until when a cancel request of an earlier statement may still be on its way to the server; nil when none
    /// is, and a statement can start at once.
    var cancelInFlightUntil: ContinuousClock.Instant? {
        state.withLock { $0.inFlightUntil }.map(ContinuousClock.Instant.init)
    }

    /// Whether a cancel request of an earlier statement may still be on its way to the server: whether
    /// ``cancelInFlightUntil`` is set, without its instant.
    var isInFlight: Bool {
        hasRequestInFlight.load(ordering: .acquiring)
    }

    /// Waits until no cancel request of an earlier statement can still reach the server, so that a statement about
    /// to start cannot be cancelled by it; at most until `deadline` or the request's grace deadline.
    ///
    /// Why waiting for `PQcancel` to return is enough (PostgreSQL's `postmaster.c`, `postgres.c`, libpq's
    /// `fe-connect.c`): `PQcancel` connects to the server, sends the request and returns only when the server closes
    /// that connection, which it does after signalling the session's backend (SIGINT). libpq: "Wait for the
    /// postmaster to close the connection, which indicates that it's processed the request. Without this delay, we
    /// might issue another command only to find that our cancel zaps that command instead of the one we thought we
    /// were canceling." The backend takes the signal before it can read any later command (a pending signal is
    /// delivered before the read returns), and a cancel taken while it waits for a command is dropped: it reads a
    /// command with `DoingCommandRead` set, then runs `CHECK_FOR_INTERRUPTS()` before clearing it ("Query cancel
    /// is supposed to be a no-op when there is no query in progress, so if a query cancel arrived while we were
    /// idle, just reset QueryCancelPending"), and `ProcessInterrupts` ignores the cancel while `DoingCommandRead`.
    /// So a statement sent after `PQcancel` returned is safe; one sent while it runs may be the one cancelled.
    func waitForCancelInFlight(until deadline: ContinuousClock.Instant?) async -> InFlightOutcome {
        guard let inFlightUntil = cancelInFlightUntil else { return .settled }
        let waitUntil = deadline.map { min($0, inFlightUntil) } ?? inFlightUntil
        await withTaskGroup(of: Void.self) { group in
            // Ends the wait at its limit or when the task is cancelled (which cancels this child as well).
            group.addTask { [self] in
                try? await Task.sleep(until: waitUntil, clock: .continuous)
                let waiter = state.withLock { $0.inFlightWaiter.take() }
                waiter?.resume()
            }
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                // The limit, a cancellation or the send may all have come first; only a wait still needed parks.
                let parks = state.withLock { state -> Bool in
                    guard state.inFlightUntil != nil, !Task.isCancelled, ContinuousClock.now < waitUntil else {
                        return false
                    }
                    state.inFlightWaiter = continuation
                    return true
                }
                if !parks { continuation.resume() }
            }
            group.cancelAll()
        }
        return state.withLock { state in
            guard let inFlightUntil = state.inFlightUntil else { return .settled }
            if Task.isCancelled { return .cancelled }
            return ContinuousClock.now >= ContinuousClock.Instant(inFlightUntil) ? .hung : .deadlinePassed
        }
    }
}

