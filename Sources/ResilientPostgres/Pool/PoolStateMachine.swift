import PostgresPolicy
import PostgresTransport

/// The connection pool's decisions, as a value: which session to lend, when to open one, who waits and until when,
/// what to close, when the prober connects.
///
/// It never reads a clock, never waits and does no I/O: every method takes the current instant from its caller and
/// returns what is to be done, as a ``Step`` for the operation that called and ``Action``s for everyone else (lend a
/// session to a waiting operation, let it open one in a slot, fail it, close a session, connect for the prober, set
/// or cancel a timer). ``ConnectionPool`` holds it under a lock, sets the timers in the same turn of the lock, runs
/// the other actions outside it, and reports how each ended (a connect, a liveness check, a reset, a close, a
/// timer). Sessions and waiters are named by ids; `Connection` is what it lends (a `DatabaseConnection`, or a plain
/// value in tests).
///
/// Idle sessions are reused last-in first-out (the warmest first); one idle past the liveness interval is checked
/// first; sessions past their lifetime, broken, or from an earlier epoch are closed instead of reused. When every
/// slot is taken, operations wait first-come first-served until a session comes back or a slot frees, at most until
/// their deadline. A slot stays taken until its session is closed, so the sessions open never exceed the maximum.
/// At most `maxConcurrentConnects` connects are under way at once: an operation that would open one more waits
/// for a connect to end (and then opens its own) or for a session to come back, so that a client whose sessions
/// all dropped at once (a server restart) does not meet the recovering server with its whole pool at once. With a
/// connect jitter, the connects of each wave (the pool's first, and the first after it lost sessions) are held for a
/// random delay first, so that instances started or cut off together do not connect in the same instant.
/// Connects, and whether an operation may start one, are in `PoolStateMachine+Connects.swift`; sessions coming
/// back in `PoolStateMachine+Release.swift`; outages and the prober in `PoolStateMachine+Outage.swift`; slot
/// pressure and housekeeping in `PoolStateMachine+Housekeeping.swift`.
package struct PoolStateMachine<Connection: Sendable> {
    package typealias Instant = PoolInstant

    /// A session of the pool.
    package struct SessionID: Hashable, Sendable, CustomStringConvertible {
        /// Its place among the pool's sessions.
        let index: Int
        /// Tells it from the sessions that had its place before.
        let value: Int
        package var description: String { "s\(value)" }
    }

    /// An operation waiting for a session.
    package struct WaiterID: Hashable, Sendable, CustomStringConvertible {
        let value: Int
        package var description: String { "w\(value)" }
    }

    /// A session lent out, to be given back with ``release(_:reusable:resetting:deadline:now:)``.
    package struct Lease: Sendable {
        package let id: SessionID
        package let connection: Connection
    }

    /// One of the pool's two timers, set for an instant.
    ///
    /// Operations' deadlines and the prober's next connect share one timer; housekeeping has its own, which a
    /// test clock keeps apart from the waits a test steps through (`ClientClock.sleepForHousekeeping`).
    package struct Timer: Hashable, Sendable {
        package enum Kind: Hashable, Sendable { case operations, housekeeping }
        package let kind: Kind
        /// Tells this setting of the timer from earlier ones: a timer that fires after it was replaced is ignored.
        package let id: Int
        package let deadline: Instant
    }

    /// What the operation that called does next.
    package enum Step: Sendable {
        /// Use this session, and give it back with ``release(_:reusable:resetting:deadline:now:)``.
        case lease(Lease)
        /// Check this session, idle past the liveness interval, with an empty statement ending by `deadline`, and
        /// report with ``checkPassed(_:now:)`` or ``checkFailed(_:cancelled:deadline:now:)``.
        case check(Lease, deadline: Instant)
        /// Open a session in the slot reserved for the operation, and report with
        /// ``connected(_:host:for:now:)`` or ``connectFailed(_:for:now:)``.
        case connect
        /// Wait as this waiter: an ``Action/resume(_:_:)`` brings the next step.
        case wait(WaiterID)
        /// Run the actions, then ask again.
        case retry
        /// Give up with this error.
        case fail(any Error)
    }

    /// What a session given back needs before it can be lent again.
    package enum Return: Sendable {
        /// Nothing more.
        case done
        /// Undo what app code left on it, by `deadline`, and report with ``resetFinished(_:succeeded:now:)``.
        case reset(deadline: Instant)
    }

    /// What the driver does for everyone but the operation that called.
    package enum Action: Sendable {
        /// Resume the waiting operation with its next step: a session, a slot to open one in, or a failure.
        case resume(WaiterID, Step)
        /// Close the session, and report with ``closed(_:)``.
        case close(SessionID, Connection)
        /// Open a session for the prober by `deadline`, in the slot reserved for it, and report with
        /// ``connected(_:host:for:now:)`` or ``connectFailed(_:for:now:)``.
        case probe(deadline: Instant)
        /// Set the timer, replacing the earlier setting of its kind; report with ``timerFired(_:now:)``.
        case schedule(Timer)
        /// Cancel the timer.
        case cancel(Timer)
    }

    /// Who a connect is for.
    package enum ConnectPurpose: Sendable { case operation, prober, minimumIdle }

    /// The numbers a client reports as gauges.
    package struct Counts: Equatable, Sendable {
        /// Sessions open, being opened or being closed, idle or lent.
        package var open: Int
        package var idle: Int
        package var waiting: Int

        package init(open: Int, idle: Int, waiting: Int) {
            self.open = open
            self.idle = idle
            self.waiting = waiting
        }
    }

    package struct Session {
        package enum State: Equatable { case idle(since: Instant), leased, checking, resetting, closing }
        package let id: SessionID
        package let connection: Connection
        package let epoch: Int
        /// When the session is past its lifetime: when it opened, plus a lifetime drawn for it.
        package let endOfLife: Instant
        package var state: State
    }

    package struct Waiter {
        package let id: WaiterID
        package let deadline: Instant
    }

    package let options: PoolOptions
    package internal(set) var sessions = Sessions()
    /// Idle sessions, the one to lend next last.
    package internal(set) var idle: [SessionID] = []
    /// Waiting operations, first come first.
    package internal(set) var waiters: [Waiter] = []
    /// Slots taken: sessions (whatever their state) and connects under way.
    package internal(set) var openCount = 0
    /// Connects under way, for operations, the prober, or minimum idle sessions.
    package internal(set) var connecting = 0
    /// Connects under way for minimum idle sessions.
    var openingIdle = 0
    /// Moves on when every existing session must be replaced (after a failover).
    package private(set) var epoch = 0
    package private(set) var isShutDown = false
    /// The database could not be reached: one prober reconnects while operations wait.
    package internal(set) var outage: Outage?
    /// When the server last refused this pool a session for want of slots (53300).
    var lastSlotRefusal: Instant?
    /// The host names that resolved for this client, in lowercase (see `PoolStateMachine+HostNames.swift`).
    var resolvedHostNames: Set<String> = []
    /// The operations' timer, while set.
    package private(set) var operationsTimer: Timer?
    package internal(set) var housekeeping = Housekeeping.stopped
    /// Draws each session's lifetime within the spread.
    var lifetimeDraws: SplitMix64
    /// Whether the next connect starts a wave, to be held by a jittered delay (see `PoolStateMachine+Connects.swift`).
    var connectJitterDue = true
    /// Until when operations' connects are held, while a wave's jittered delay runs.
    package internal(set) var connectsHeldUntil: Instant?
    /// Draws each wave's delay.
    var connectJitterDraws: SplitMix64
    private var nextID = 0

    /// A machine for `options`, drawing sessions' lifetimes from `lifetimeDraws` (a seeded generator in tests and
    /// simulations, a randomly seeded one otherwise).
    package init(options: PoolOptions, lifetimeDraws: SplitMix64 = SplitMix64(seed: 0)) {
        precondition(options.maxConnections >= 1, "a pool needs at least one connection")
        self.options = options
        self.lifetimeDraws = lifetimeDraws
        // Seeded apart from the lifetimes and the prober, so that one does not follow the other.
        connectJitterDraws = options.randomSeed.map { SplitMix64(seed: $0 ^ 0x6A69_7474_6572) } ?? SplitMix64()
    }

    package var counts: Counts { Counts(open: openCount, idle: idle.count, waiting: waiters.count) }
    package var isInOutage: Bool { outage != nil }

    // MARK: - Lending

    /// An operation asks for a session: an idle one if any is fit, a slot to open one in, or a place in the queue.
    package mutating func request(deadline: Instant, now: Instant) -> (Step, [Action]) {
        guard !isShutDown else { return (.fail(ConnectionPool.ShutDown()), []) }
        var actions: [Action] = []
        if options.minimumIdleConnections > 0 { scheduleHousekeeping(now: now, &actions) }
        // A hold that ended before its timer went off lets the waiters connect first, in their order.
        if endHoldIfDue(now: now) { handOutFreeSlots(now: now, &actions) }
        if let id = idle.popLast() {
            guard isFit(id, now: now) else {
                // Closed first, so that its slot is free when the operation asks again.
                startClosing(id, &actions)
                return (.retry, actions)
            }
            let lease = Lease(id: id, connection: sessions.connection(of: id))
            // Readiness was checked when the session came back; only time and epochs change while it sits idle.
            guard case .idle(let since) = sessions.state(of: id),
                  since.duration(to: now) >= options.livenessCheckAfterIdle
            else {
                sessions.set(.leased, of: id)
                return (.lease(lease), actions)
            }
            guard now < deadline else {
                idle.append(id)
                return (.fail(timedOut), actions)
            }
            sessions.set(.checking, of: id)
            return (.check(lease, deadline: min(deadline, now.advanced(by: options.livenessCheckTimeout))), actions)
        }
        if mayStartConnect(now: now) {
            reserveSlot()
            return (.connect, actions)
        }
        guard now < deadline else { return (.fail(timedOut), actions) }
        let waiter = WaiterID(value: makeID())
        waiters.append(Waiter(id: waiter, deadline: deadline))
        updateOperationsTimer(&actions)
        return (.wait(waiter), actions)
    }

    /// A waiting operation was cancelled: it leaves the queue at once, failed with `CancellationError`. Nothing
    /// happens if it was resumed already.
    package mutating func cancelWaiter(_ waiter: WaiterID) -> [Action] {
        guard let index = waiters.firstIndex(where: { $0.id == waiter }) else { return [] }
        waiters.remove(at: index)
        var actions: [Action] = [.resume(waiter, .fail(CancellationError()))]
        updateOperationsTimer(&actions)
        return actions
    }

    /// The liveness check passed: the session is the operation's, unless the pool shut down meanwhile.
    package mutating func checkPassed(_ id: SessionID, now: Instant) -> (Step, [Action]) {
        precondition(sessions[id]?.state == .checking, "only a session being checked passes a check")
        guard !isShutDown else {
            var actions: [Action] = []
            startClosing(id, &actions)
            return (.fail(ConnectionPool.ShutDown()), actions)
        }
        sessions.set(.leased, of: id)
        return (.lease(Lease(id: id, connection: sessions[id]!.connection)), [])
    }

    /// The liveness check failed: the session is closed, and with it every other idle session due a check, as they
    /// share the path to the server that just failed and checking each in turn would spend the operation's budget
    /// one timeout at a time. The operation asks again, unless its deadline passed, or the check ended because the
    /// operation was cancelled (the check then proved nothing of the others, but a cancel request may be on its way
    /// to this one).
    package mutating func checkFailed(
        _ id: SessionID,
        cancelled: Bool,
        deadline: Instant,
        now: Instant
    ) -> (Step, [Action]) {
        precondition(sessions[id]?.state == .checking, "only a session being checked fails a check")
        var actions: [Action] = []
        startClosing(id, &actions)
        if cancelled { return (.fail(CancellationError()), actions) }
        noteLoss()
        for due in idle where isDueACheck(due, now: now) {
            startClosing(due, &actions)
        }
        idle.removeAll { sessions[$0]?.state == .closing }
        return (now >= deadline ? .fail(timedOut) : .retry, actions)
    }

    // MARK: - The whole pool

    /// Moves to a new epoch: idle sessions are closed now, lent ones when they come back.
    package mutating func retireEpoch() -> [Action] {
        epoch += 1
        noteLoss()
        var actions: [Action] = []
        for id in idle { startClosing(id, &actions) }
        idle.removeAll()
        return actions
    }

    /// Refuses new operations, fails every waiting one, ends the outage, closes every idle session and cancels the
    /// timers. Sessions lent, being checked or reset close when they come back, and sessions being opened once
    /// they open.
    package mutating func shutdown() -> [Action] {
        guard !isShutDown else { return [] }
        isShutDown = true
        outage = nil
        var actions: [Action] = waiters.map { .resume($0.id, .fail(ConnectionPool.ShutDown())) }
        waiters.removeAll()
        for id in idle { startClosing(id, &actions) }
        idle.removeAll()
        if let operationsTimer { actions.append(.cancel(operationsTimer)) }
        operationsTimer = nil
        if case .armed(let timer) = housekeeping {
            actions.append(.cancel(timer))
            housekeeping = .stopped
        }
        return actions
    }

    /// A timer went off: the operations' one fails the operations whose deadline passed and wakes the prober when
    /// due, and ends a wave's hold; the housekeeping one closes idle sessions that sat or lived too long (see
    /// ``housekeepingFired(_:now:)``). Nil when the timer was replaced or cancelled since.
    package mutating func timerFired(_ timer: Timer, now: Instant) -> [Action]? {
        switch timer.kind {
        case .operations:
            guard operationsTimer?.id == timer.id else { return nil }
            operationsTimer = nil
            var actions: [Action] = []
            let failure = timedOut
            waiters.removeAll { waiter in
                guard waiter.deadline <= now else { return false }
                actions.append(.resume(waiter.id, .fail(failure)))
                return true
            }
            if case .sleeping(let until) = outage?.prober, until <= now { proberWoke(now: now, &actions) }
            if endHoldIfDue(now: now) { handOutFreeSlots(now: now, &actions) }
            updateOperationsTimer(&actions)
            return actions
        case .housekeeping:
            return housekeepingFired(timer, now: now)
        }
    }

    // MARK: - Internals

    /// What an operation that waited until its deadline is told: the last failure to connect, if it waited for
    /// the database to come back.
    var timedOut: ConnectionPool.WaitTimedOut { ConnectionPool.WaitTimedOut(lastConnectFailure: outage?.lastFailure) }

    mutating func makeID() -> Int {
        nextID += 1
        return nextID
    }

    /// Whether a session may be kept: the pool is running, and the session is of the current epoch and within its
    /// lifetime.
    func isFit(_ id: SessionID, now: Instant) -> Bool {
        !isShutDown && sessions.isCurrent(id, epoch: epoch, now: now)
    }

    func isDueACheck(_ id: SessionID, now: Instant) -> Bool {
        guard case .idle(let since) = sessions[id]?.state else { return false }
        return since.duration(to: now) >= options.livenessCheckAfterIdle
    }

    /// Marks the session for closing; its slot stays taken until ``closed(_:)``.
    mutating func startClosing(_ id: SessionID, _ actions: inout [Action]) {
        sessions.set(.closing, of: id)
        actions.append(.close(id, sessions.connection(of: id)))
    }

    /// Sets the operations' timer for the earliest waiter's deadline, the prober's next connect or the end of a
    /// wave's hold while an operation waits for it, whichever is first: due earlier than the timer is set for, it is
    /// set again; with nothing to wait for, it is cancelled. Set for an instant that no longer matters (the waiter
    /// got a session), it is left: it goes off early once, and is set again then, which spares setting it at every
    /// hand-off.
    mutating func updateOperationsTimer(_ actions: inout [Action]) {
        var due = waiters.lazy.map(\.deadline).min()
        if case .sleeping(let until) = outage?.prober { due = min(due ?? until, until) }
        if let until = connectsHeldUntil, !waiters.isEmpty { due = min(due ?? until, until) }
        guard let due else {
            if let operationsTimer { actions.append(.cancel(operationsTimer)) }
            operationsTimer = nil
            return
        }
        if let operationsTimer, operationsTimer.deadline <= due { return }
        let timer = Timer(kind: .operations, id: makeID(), deadline: due)
        operationsTimer = timer
        actions.append(.schedule(timer))
    }
}
