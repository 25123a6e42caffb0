import PostgresPolicy
import PostgresTransport
import Synchronization

/// A bounded set of sessions shared by a client's operations: ``PoolStateMachine`` decides, this runs what it
/// decides.
///
/// The machine sits under a lock with the continuations of the operations that wait and the tasks of its timers;
/// each call takes the lock once, lets the machine decide, sets the timers it asks for, and runs the other actions
/// outside the lock. An operation that finds a session idle and fit,
/// or gives one back that no one waits for, does so under the lock without suspending. A waiting operation parks on
/// a continuation, resumed exactly once: with a session, a slot to open one in, or a failure (its deadline, its
/// cancellation, a shutdown, a permanent failure of the prober). Connects for an operation, liveness checks, resets
/// and closes run in the task of the operation that needs them. Two timers (see `ConnectionPool+Tasks.swift`) end
/// waits at their deadlines, wake the prober (whose connect runs in the task of the timer that woke it), and keep
/// house.
package final class ConnectionPool: Sendable {
    typealias Machine = PoolStateMachine<any DatabaseConnection>
    /// A session lent out by the pool, to be given back with ``release(_:reuse:reset:by:)``.
    typealias Lease = Machine.Lease
    typealias Instant = ContinuousClock.Instant

    /// The pool waited until the operation's deadline and no session became free.
    package struct WaitTimedOut: Error {
        /// The last failure to open a session, when the wait was for the database to come back.
        package var lastConnectFailure: TransportError?
    }

    /// The pool was shut down.
    package struct ShutDown: Error {}

    /// What is under the lock: the machine, the operations it has queued, and the tasks of its timers.
    struct State {
        var machine: Machine
        /// Waiting operations, from when the machine queues them until they are resumed.
        var parked: [Machine.WaiterID: Parking] = [:]
        /// The counts last reported as gauges.
        var reported: Machine.Counts?
        var timers = Timers()
        /// How many acquires and releases went on past their start under the lock, to suspend for what the pool had
        /// to wait for or to run; an operation on a warm pool adds none, which is what the tests of the fast path
        /// read.
        var continuedSteps = 0
    }

    /// A waiting operation: queued by the machine, parked with its continuation, or resumed before it could park.
    enum Parking {
        case queued
        /// Parked in the task with key `task` (see ``waits``).
        case parked(CheckedContinuation<Machine.Step, Never>, task: Int?)
        case resumed(Machine.Step)
    }

    /// What a transition leaves to run outside the lock.
    struct Effects: Sendable {
        var resumptions: [(CheckedContinuation<Machine.Step, Never>, Machine.Step)] = []
        /// Closes, and the prober's connect.
        var actions: [Machine.Action] = []

        var isEmpty: Bool { resumptions.isEmpty && actions.isEmpty }
    }

    let connector: any DatabaseConnector
    /// Sets up every session opened, and every session reset, before it is lent.
    let initializer: SessionInitializer?
    let clock: any ClientClock
    let metrics: ClientMetrics?
    let state: Mutex<State>

    init(
        connector: any DatabaseConnector,
        initializer: SessionInitializer? = nil,
        options: PoolOptions,
        clock: any ClientClock,
        metrics: ClientMetrics?
    ) {
        self.connector = connector
        self.initializer = initializer
        self.clock = clock
        self.metrics = metrics
        // Seeded apart from the prober's jitter, so that one does not follow the other.
        let lifetimeDraws = options.randomSeed.map { SplitMix64(seed: $0 ^ 0x6C69_6665_7469_6D65) } ?? SplitMix64()
        self.state = Mutex(State(machine: Machine(options: options, lifetimeDraws: lifetimeDraws)))
    }

    /// How many acquires and releases could not complete under the lock at once (see `State.continuedSteps`).
    package var continuedSteps: Int { state.withLock { $0.continuedSteps } }

    /// The number of operations waiting for a session.
    var waiterCount: Int { state.withLock { $0.machine.waiters.count } }
    /// Whether the database is unreachable and a prober is reconnecting.
    var isInOutage: Bool { state.withLock { $0.machine.isInOutage } }

    /// The session the next operation would be lent, if one is idle (the warmest).
    var nextIdleConnection: (any DatabaseConnection)? {
        state.withLock { state in state.machine.idle.last.flatMap { state.machine.sessions[$0]?.connection } }
    }

    /// Lends a session: an idle one if any is fit, a new one if a slot is free, or the next one returned.
    ///
    /// A warm pool lends without suspending: an idle, fit session that the machine lends with nothing else to run
    /// is taken under the lock, and the operation suspends only when the pool has something to wait for or to run.
    /// Inlined into its caller, so that the operation pays no async layer for it.
    ///
    /// - Throws: the connector's `TransportError` when opening a session fails; ``WaitTimedOut`` at the deadline;
    ///   `CancellationError` when the task is cancelled while waiting; ``ShutDown``.
    ///
    /// The deadline comes as the operation keeps it (``PoolInstant``), a value of known size: a
    /// `ContinuousClock.Instant` would cost the async function this is inlined into an allocation of its task.
    @inline(__always)
    func acquire(by end: PoolInstant) async throws -> Lease {
        switch try startAcquire(by: end) {
        case .leased(let lease): return lease
        case .pending(let pending): return try await acquire(continuing: pending)
        }
    }

    /// How an acquire started: with a session lent at once, or with a step left to carry out.
    private enum AcquireStart {
        case leased(Lease)
        /// Carry on with ``acquire(continuing:)``.
        case pending(PendingAcquire)
    }

    /// The step the machine decided for an acquire that could not complete at once, what its transition left to
    /// run, and the operation's deadline, which it queued a waiter with.
    private struct PendingAcquire {
        var step: Machine.Step
        var effects: Effects
        var end: PoolInstant
    }

    /// The synchronous start of ``acquire(by:)``: lends an idle, fit session under the lock when the machine
    /// leaves nothing else to run; otherwise returns the step for ``acquire(continuing:)``.
    ///
    /// Private, with its continuation, because the machine's decision is made here once and never repeated: it may
    /// have reserved a connect slot or queued a waiter, which only the continuation releases or resumes, so the two
    /// are always called together, by ``acquire(by:)``. Never inlined: the retry loop that inlines `acquire(by:)` is
    /// copied into each of its callers, and this turn of the machine is the same in all of them.
    @inline(never)
    private func startAcquire(by end: PoolInstant) throws -> AcquireStart {
        // A task cancelled already must not run liveness checks that fail for that reason alone, closing sessions.
        try Task.checkCancellation()
        let (step, effects) = nextStep { $0.request(deadline: end, now: $1) }
        if case .lease(let lease) = step, effects.isEmpty { return .leased(lease) }
        return .pending(PendingAcquire(step: step, effects: effects, end: end))
    }

    /// Carries out an acquire that ``startAcquire(by:)`` could not complete; throws as ``acquire(by:)``.
    private func acquire(continuing pending: PendingAcquire) async throws -> Lease {
        state.withLock { $0.continuedSteps += 1 }
        let end = pending.end
        let deadline = clockInstant(end)
        var (step, effects) = (pending.step, pending.effects)
        while true {
            if !effects.isEmpty {
                await perform(effects)
                effects = Effects()
            }
            switch step {
            case .lease(let lease):
                return lease
            case .check(let lease, let checkDeadline):
                (step, effects) = await check(lease, by: checkDeadline, deadline: end)
            case .connect:
                (step, effects) = await connect(deadline: deadline)
            case .wait(let waiter):
                step = await wait(waiter)
            case .retry:
                (step, effects) = nextStep { $0.request(deadline: end, now: $1) }
            case .fail(let error):
                throw error
            }
        }
    }

    /// Takes a session back. A session that is broken, inside a transaction, from an old epoch or past its lifetime
    /// is closed (pass `reuse: false` to close it regardless). With `reset`, what app code left on the session is
    /// undone first, by the operation's deadline `end` as the operation keeps it (``PoolInstant``; the operation
    /// waits for it), then the session is set up again by the initializer, as the reset undid its settings too; a
    /// session whose reset or set-up fails, or that no time is left to reset, is closed.
    ///
    /// A warm pool takes a session back without suspending: when no one is to be resumed, nothing to be closed and
    /// no reset to run, the session is given back under the lock. Inlined into its caller, as ``acquire(by:)``.
    @inline(__always)
    func release(_ lease: Lease, reuse: Bool, reset: SessionReset? = nil, by end: PoolInstant? = nil) async {
        if let pending = startRelease(lease, reuse: reuse, reset: reset, by: end) {
            await release(continuing: pending)
        }
    }

    /// What a release left to do after its transition: closes, resumptions, or the session's reset.
    private struct PendingRelease {
        var lease: Lease
        var next: Machine.Return
        var effects: Effects
        var reset: SessionReset?
    }

    /// The synchronous start of ``release(_:reuse:reset:by:)``: gives the session back under the lock, and returns
    /// nil when nothing is left to do; otherwise returns what is left for ``release(continuing:)``. Private with
    /// it, as ``startAcquire(by:)``: a close or resumption it decided is only run by the continuation.
    ///
    /// Readiness for reuse is read from the connection without a hop (``DatabaseConnection/isReadyForReuse`` is kept
    /// up to date by the connection as its statements end). Never inlined, as ``startAcquire(by:)``.
    @inline(never)
    private func startRelease(
        _ lease: Lease,
        reuse: Bool,
        reset: SessionReset?,
        by end: PoolInstant?
    ) -> PendingRelease? {
        let reusable = reuse && lease.connection.isReadyForReuse
        let (next, effects) = transition {
            $0.release(lease.id, reusable: reusable, resetting: reset != nil, deadline: end, now: $1)
        }
        if effects.isEmpty, case .done = next { return nil }
        return PendingRelease(lease: lease, next: next, effects: effects, reset: reset)
    }

    /// Carries out what a release left to do (see ``startRelease(_:reuse:reset:by:)``).
    private func release(continuing pending: PendingRelease) async {
        state.withLock { $0.continuedSteps += 1 }
        if !pending.effects.isEmpty { await perform(pending.effects) }
        guard case .reset(let resetDeadline) = pending.next, let reset = pending.reset else { return }
        let lease = pending.lease
        let succeeded: Bool
        do {
            try await lease.connection.resetSession(
                deallocatingPreparedStatements: reset.deallocatesPreparedStatements
                    || initializer?.preparesStatements == true,
                deadline: clockInstant(resetDeadline)
            )
            try await initializer?.run(on: lease.connection, deadline: clockInstant(resetDeadline))
            succeeded = true
        } catch {
            succeeded = false
        }
        await perform(actions { $0.resetFinished(lease.id, succeeded: succeeded, now: $1) })
    }

    /// Moves to a new epoch: idle sessions are closed now, lent ones when they come back.
    package func retireEpoch() async {
        await perform(actions { machine, _ in machine.retireEpoch() })
    }

    /// Closes every idle session, fails every waiter, stops the prober and the timers, and refuses new operations;
    /// lent sessions close on return, and sessions being opened once they open.
    func shutdown() async {
        let effects = actions { machine, _ in machine.shutdown() }
        state.withLock { $0.timers.stop() }
        await perform(effects)
    }

    /// Opens sessions until the minimum number sit idle (or the pool is full); stops at the first failure, which
    /// starts an outage if it is transient.
    func openMinimumIdle() async {
        while let connectDeadline = transition({ ($0.reserveMinimumIdleSlot(now: $1), []) }).0 {
            do {
                let connection = try await open(deadline: clockInstant(connectDeadline))
                await perform(actions {
                    $0.connected(connection, host: connection.host, for: .minimumIdle, now: $1).actions
                })
            } catch {
                await perform(actions { $0.connectFailed(error, for: .minimumIdle, now: $1).actions })
                return
            }
        }
    }

    /// Sets the housekeeping timer if there is something for it to do: it closes sessions idle or open for too
    /// long and keeps the minimum idle ones, whether or not the client runs as a service.
    func scheduleHousekeeping() {
        let work = start(actions { machine, now in
            var actions: [Machine.Action] = []
            machine.scheduleHousekeeping(now: now, &actions)
            return actions
        })
        precondition(work.isEmpty, "setting a timer closes nothing")
    }

    // MARK: - Steps of an operation

    /// Parks the operation until the machine resumes it; a cancelled task leaves the queue at once.
    private func wait(_ waiter: Machine.WaiterID) async -> Machine.Step {
        let task = withUnsafeCurrentTask { $0?.hashValue }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> Machine.Step? in
                    if case .resumed(let step) = state.parked[waiter] {
                        state.parked[waiter] = nil
                        return step
                    }
                    state.parked[waiter] = .parked(continuation, task: task)
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let work = start(actions { machine, _ in machine.cancelWaiter(waiter) })
            precondition(work.isEmpty, "cancelling a waiter closes nothing")
        }
    }

    /// Checks a session idle past the liveness interval with an empty statement, the cheapest round trip: it proves
    /// the session and the path to it alive.
    private func check(
        _ lease: Lease,
        by checkDeadline: PoolInstant,
        deadline: PoolInstant
    ) async -> (Machine.Step, Effects) {
        do {
            _ = try await lease.connection.execute(
                "", parameters: [], resultFormat: .text, deadline: clockInstant(checkDeadline)
            )
            return nextStep { $0.checkPassed(lease.id, now: $1) }
        } catch let error as TransportError where error.code == .cancelled {
            return nextStep { $0.checkFailed(lease.id, cancelled: true, deadline: deadline, now: $1) }
        } catch {
            return nextStep { $0.checkFailed(lease.id, cancelled: false, deadline: deadline, now: $1) }
        }
    }

    /// Opens a session in the slot the machine reserved for the operation. An operation whose deadline passed
    /// before its turn came (its task ran late) gives the slot back without connecting: a connect with no time
    /// left fails like an unreachable server, and would start an outage against a healthy one.
    private func connect(deadline: Instant) async -> (Machine.Step, Effects) {
        let outcome: (Machine.Step?, Effects)
        guard clock.now < deadline else {
            outcome = transition { machine, now in machine.connectFailed(machine.timedOut, for: .operation, now: now) }
            return (outcome.0!, outcome.1)
        }
        do {
            let connection = try await open(deadline: deadline)
            outcome = transition { $0.connected(connection, host: connection.host, for: .operation, now: $1) }
        } catch {
            outcome = transition { $0.connectFailed(error, for: .operation, now: $1) }
        }
        // An operation's connect always ends in a step for it.
        return (outcome.0!, outcome.1)
    }

    /// Opens a session and sets it up with the initializer, for an operation, the prober or the minimum idle
    /// sessions. A session whose set-up fails is closed before the failure is reported, while its slot is still
    /// taken, so that the sessions open never exceed the maximum.
    func open(deadline: Instant) async throws -> any DatabaseConnection {
        let connection = try await connector.connect(deadline: deadline)
        guard let initializer else { return connection }
        do {
            try await initializer.run(on: connection, deadline: deadline)
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    // MARK: - Running what the machine decides

    /// Runs `body` on the machine under the lock, at the clock's now: sets or cancels the timers it asks for, takes
    /// the continuations of the operations it resumes, and reports the gauges when a count changed. With
    /// `adopting`, from a timer task that ran what it woke for, the operations' timer set is that task's to sleep
    /// for (see `ConnectionPool+Tasks.swift`), unless the prober is to connect.
    func transition<Value: Sendable>(
        adopting: Bool = false,
        _ body: (inout Machine, PoolInstant) -> (Value, [Machine.Action])
    ) -> (Value, Effects) {
        locked(adopting: adopting) { state, now in body(&state.machine, now) }
    }

    /// Runs `body`, which only asks for actions, as ``transition(adopting:_:)`` does.
    func actions(adopting: Bool = false, _ body: (inout Machine, PoolInstant) -> [Machine.Action]) -> Effects {
        locked(adopting: adopting) { state, now in ((), body(&state.machine, now)) }.1
    }

    /// Runs `body`, which decides an operation's next step, on the machine under the lock, as
    /// ``transition(adopting:_:)`` does; an operation it queues is registered in the same turn of the lock.
    func nextStep(
        _ body: (inout Machine, PoolInstant) -> (Machine.Step, [Machine.Action])
    ) -> (Machine.Step, Effects) {
        locked { state, now in
            let (step, actions) = body(&state.machine, now)
            if case .wait(let waiter) = step { state.parked[waiter] = .queued }
            return (step, actions)
        }
    }

    /// The turn of the lock behind every transition.
    ///
    /// Timer settings are applied in the turn that made them, so that the tasks sleeping on the clock are always
    /// exactly the timers the machine holds: a test clock's pending sleeps, and the simulator telling whether the
    /// pool's timer is asleep, never see a replaced setting beside the new one. Starting a timer task, or cancelling
    /// one (which ends its sleep on the clock), calls nothing back in the pool.
    private func locked<Value: Sendable>(
        adopting: Bool = false,
        _ body: (inout State, PoolInstant) -> (Value, [Machine.Action])
    ) -> (Value, Effects) {
        let now = clock.offsetNow
        return state.withLock { state in
            let (value, actions) = body(&state, now)
            let adopts = adopting && !actions.contains { if case .probe = $0 { true } else { false } }
            var effects = Effects()
            for action in actions {
                switch action {
                case .resume(let waiter, let step):
                    switch state.parked.removeValue(forKey: waiter) {
                    case .parked(let continuation, _):
                        effects.resumptions.append((continuation, step))
                    case .queued:
                        state.parked[waiter] = .resumed(step)
                    case .resumed, nil:
                        preconditionFailure("an operation is resumed once, after it was queued")
                    }
                case .schedule(let timer):
                    state.timers.set(timer, adopted: adopts && timer.kind == .operations, start: makeTimerTask)
                case .cancel(let timer):
                    state.timers.cancel(timer.kind)
                case .close, .probe:
                    effects.actions.append(action)
                }
            }
            let counts = state.machine.counts
            if let metrics, counts != state.reported {
                // Under the lock, so that the gauges end at the latest counts whatever order threads run in.
                state.reported = counts
                metrics.recordPool(open: counts.open, idle: counts.idle, waiting: counts.waiting)
            }
            return (value, effects)
        }
    }

    /// What a task runs itself after a transition, in turn: closing a session, or the prober's connect.
    enum Work {
        case close(Machine.SessionID, any DatabaseConnection)
        case probe(deadline: Instant)
    }

    /// Resumes the operations, then closes the sessions to close, one by one, reporting each (which may let a
    /// waiting operation open a session in the slot freed).
    func perform(_ effects: Effects) async {
        await run(start(effects))
    }

    /// Runs the work in turn, and the work that follows from it; with `adopting`, as a timer task does (see
    /// ``transition(adopting:_:)``).
    func run(_ work: [Work], adopting: Bool = false) async {
        var work = work
        while !work.isEmpty {
            switch work.removeFirst() {
            case .close(let id, let connection):
                await connection.close()
                work += start(actions(adopting: adopting) { machine, now in machine.closed(id, now: now) })
            case .probe(let deadline):
                work += await probe(by: deadline, adopting: adopting)
            }
        }
    }

    /// Resumes the operations; returns what is left for the calling task to run.
    func start(_ effects: Effects) -> [Work] {
        for (continuation, step) in effects.resumptions { continuation.resume(returning: step) }
        return effects.actions.compactMap { action in
            switch action {
            case .close(let id, let connection): .close(id, connection)
            case .probe(let deadline): .probe(deadline: clockInstant(deadline))
            case .resume, .schedule, .cancel: nil
            }
        }
    }

    /// The client's clock's instant for an instant of the machine.
    func clockInstant(_ instant: PoolInstant) -> Instant {
        Instant(instant)
    }
}
