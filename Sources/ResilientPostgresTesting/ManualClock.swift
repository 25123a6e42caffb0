import ResilientPostgres
import Synchronization

/// A clock that moves only when a test tells it to, and lets the test wait until something sleeps on it.
///
/// Give it to a client (`PostgresClient.testing(_:randomSeed:configure:)` does) and every wait the client makes
/// — a backoff, the pool's timer, which ends operations' waits for a session at their deadlines and wakes its prober
/// between reconnects — becomes a ``Sleep`` that ends only when the test advances the clock past its deadline. A
/// 90-second outage then takes no real time, and every run takes the same path:
/// ```swift
/// let sleep = try await clock.nextSleep()   // the client is backing off
/// clock.advance(to: sleep.deadline)         // and now it is not
/// ```
/// When several things sleep at once and each step depends on what the client does next (an outage, with the pool's
/// prober and the waiting operations), let ``run(timeout:isolation:_:)`` and ``run(for:timeout:)`` move the clock
/// instead: they advance to the next deadline only once everything else has settled.
///
/// Its instants are `ContinuousClock` instants, starting from the real time it was made, so a deadline computed
/// from it can be handed to anything that takes one. A cancelled sleep ends at once with `CancellationError`.
public final class ManualClock: Clock, Sendable {
    /// The clock's instants, which are those of `ContinuousClock`.
    public typealias Instant = ContinuousClock.Instant

    /// One pending wait on the clock: when it was registered, and when it ends.
    public struct Sleep: Sendable, Hashable, CustomStringConvertible {
        /// The order in which the sleep was registered, from 1.
        public let number: Int
        /// The clock's time when the sleep began.
        public let registeredAt: Instant
        /// The instant the sleep ends.
        public let deadline: Instant

        /// How long the sleep lasts from when it began.
        public var duration: Duration { registeredAt.duration(to: deadline) }

        /// The sleep's number and duration.
        public var description: String { "Sleep(#\(number), \(duration.shortDescription))" }
    }

    private struct Sleeper {
        let sleep: Sleep
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct SleepWaiter {
        let id: Int
        /// How many sleeps must be pending, or nil for the next unreported one.
        let count: Int?
        let continuation: CheckedContinuation<[Sleep], any Error>

        /// A waiter to resume once the lock is released.
        struct Resumption {
            let continuation: CheckedContinuation<[Sleep], any Error>
            let outcome: Result<[Sleep], any Error>

            func resume() { continuation.resume(with: outcome) }
        }
    }

    private struct State {
        var now: Instant
        /// Pending sleeps, ordered by deadline, then by registration.
        var sleepers: [Sleeper] = []
        /// Pending sleeps not yet returned by `nextSleep()`, in registration order.
        var unreported: [Sleep] = []
        var waiters: [SleepWaiter] = []
        var nextNumber = 1
        var nextWaiterID = 0
        /// Counts everything that happened on the clock or its database: sleeps begun and ended, connects and
        /// statements. Unchanged for a while means that everything left waits on the clock.
        var changes = 0
        /// Sleeps that `advance` ended whose tasks have not run since: a task resumed but still waiting for a thread
        /// has its next step ahead of it, so nothing has settled while one is here.
        var waking: Set<Int> = []
        /// Tasks that ran since `advance` ended their sleep and have not slept on the clock again, with the real time
        /// they resumed at: each is taking its next step (a connect, then its next sleep), so nothing has settled
        /// while one is here, for up to ``ManualClock/stepAllowance`` of real time.
        var stepping: [TaskKey: ContinuousClock.Instant] = [:]
        /// The longest real time a woken task took to sleep on the clock again, which the allowance follows.
        var slowestStep = Duration.zero
    }

    /// Names the task running now (a hash of its handle), to tell when a task the clock woke sleeps on it again.
    ///
    /// A task that ended may share its key with a later one; that can only end its step early.
    typealias TaskKey = Int

    static var currentTaskKey: TaskKey? { withUnsafeCurrentTask { $0?.hashValue } }

    private let state: Mutex<State>
    /// The pool's housekeeping timers, kept apart from the sleeps a test steps through.
    let housekeeping = HousekeepingTimers()
    /// The instant the clock started at.
    public let start: Instant

    /// A clock standing still at the current real time until advanced.
    public init() {
        let now = ContinuousClock.now
        self.start = now
        self.state = Mutex(State(now: now))
    }

    /// The clock's current instant.
    public var now: Instant { state.withLock { $0.now } }

    /// How far the clock has been advanced since it was made.
    public var elapsed: Duration { start.duration(to: now) }

    /// The smallest step the clock distinguishes.
    public var minimumResolution: Duration { .nanoseconds(1) }

    /// The sleeps pending now, earliest deadline first.
    public var pendingSleeps: [Sleep] { state.withLock { $0.sleepers.map(\.sleep) } }

    /// Waits until `deadline` on this clock, that is, until a test advances the clock to it.
    ///
    /// Returns at once when the deadline is not in the future. Throws `CancellationError` at once when the task is
    /// cancelled, before or during the sleep.
    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let number = state.withLock { state in
            defer { state.nextNumber += 1 }
            return state.nextNumber
        }
        let task = Self.currentTaskKey
        // The task runs again: a sleep that `advance` ended is no longer waking, and its task takes its next step.
        defer {
            state.withLock { state in
                guard state.waking.remove(number) != nil else { return }
                state.changes += 1
                if let task { state.stepping[task] = .now }
            }
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                typealias Registration = (outcome: Result<Void, any Error>?, resumed: [SleepWaiter.Resumption])
                let (outcome, resumed) = state.withLock { state -> Registration in
                    // Checked under the lock, so a cancellation either is seen here or finds the sleeper registered.
                    if Task.isCancelled { return (.failure(CancellationError()), []) }
                    if deadline <= state.now { return (.success(()), []) }
                    let sleep = Sleep(number: number, registeredAt: state.now, deadline: deadline)
                    let index = state.sleepers.firstIndex { $0.sleep.deadline > deadline } ?? state.sleepers.endIndex
                    state.sleepers.insert(Sleeper(sleep: sleep, continuation: continuation), at: index)
                    state.unreported.append(sleep)
                    state.changes += 1
                    Self.endStep(of: task, in: &state)
                    return (nil, Self.satisfiedWaiters(&state))
                }
                if let outcome { continuation.resume(with: outcome) }
                resumed.forEach { $0.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.sleep.number == number }) else { return nil }
                state.unreported.removeAll { $0.number == number }
                state.changes += 1
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Waits until something sleeps on the clock, and returns that sleep.
    ///
    /// Each pending sleep is returned once, in the order the sleeps began; a sleep that ended (was cancelled) before
    /// it was returned is skipped. Use it when one thing at a time sleeps (an operation backing off); when several
    /// do (an operation waiting for the pool's prober during an outage), use ``run(for:timeout:)`` and
    /// ``run(timeout:isolation:_:)``.
    ///
    /// - Parameter timeout: the real time to wait, 10 seconds by default.
    /// - Throws: ``WaitTimeout`` when nothing began to sleep within `timeout`, listing the pending sleeps;
    ///   `CancellationError` when the waiting task is cancelled.
    @discardableResult
    public func nextSleep(timeout: Duration = WaitTimeout.defaultTimeout) async throws -> Sleep {
        try await WaitTimeout.bounding(timeout, waitingFor: "the next sleep", observe: { self.pendingSummary }) {
            try await self.wait(count: nil)[0]
        }
    }

    /// Waits until at least `count` sleeps are pending, and returns the pending sleeps, earliest deadline first.
    ///
    /// Pending sleeps say that something sleeps, not that everything that will sleep does: a task that ends
    /// instead of sleeping again (a prober whose connect succeeds) leaves the count short for good. To move the clock
    /// while a client works, use ``run(for:timeout:)`` and ``run(timeout:isolation:_:)``.
    ///
    /// - Parameters:
    ///   - count: how many sleeps to wait for, at least 1.
    ///   - timeout: the real time to wait, 10 seconds by default.
    /// - Throws: ``WaitTimeout`` when fewer than `count` sleeps were pending after `timeout`, listing those that
    ///   were; `CancellationError` when the waiting task is cancelled.
    @discardableResult
    public func waitForSleeps(count: Int, timeout: Duration = WaitTimeout.defaultTimeout) async throws -> [Sleep] {
        precondition(count >= 1, "wait for at least one sleep")
        return try await WaitTimeout.bounding(
            timeout, waitingFor: count == 1 ? "1 sleep" : "\(count) sleeps", observe: { self.pendingSummary }
        ) {
            try await self.wait(count: count)
        }
    }

    /// Moves the clock forward by `duration`, ending every sleep whose deadline is reached, earliest first.
    public func advance(by duration: Duration) {
        precondition(duration >= .zero, "a clock only moves forward")
        advance(to: now.advanced(by: duration))
    }

    /// Moves the clock to `instant` (if it is later than now), ending every sleep whose deadline is reached,
    /// earliest first.
    public func advance(to instant: Instant) {
        let due = state.withLock { state -> [Sleeper] in
            guard instant > state.now else { return [] }
            state.now = instant
            state.changes += 1
            let count = state.sleepers.firstIndex { $0.sleep.deadline > instant } ?? state.sleepers.count
            let due = Array(state.sleepers.prefix(count))
            state.sleepers.removeFirst(count)
            let ended = Set(due.map(\.sleep.number))
            state.unreported.removeAll { ended.contains($0.number) }
            state.waking.formUnion(ended)
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
        housekeeping.fire(upTo: now)
    }

    /// Moves the clock to the earliest pending deadline, ending the sleeps due then, and returns the first of them;
    /// does nothing and returns nil when nothing sleeps.
    @discardableResult
    public func advanceToNextSleep() -> Sleep? {
        guard let next = pendingSleeps.first else { return nil }
        advance(to: next.deadline)
        return next
    }

    // MARK: - Waiting for sleeps

    /// The pending sleeps, for a failure message: `1 pending: Sleep(#3, 0.5 s)`.
    var pendingSummary: String {
        let pending = pendingSleeps
        guard !pending.isEmpty else { return "none pending" }
        return "\(pending.count) pending: " + pending.map(\.description).joined(separator: ", ")
    }

    /// A count that moves on whenever anything happens on the clock or is reported with ``noteActivity()``.
    var changes: Int { state.withLock { $0.changes } }

    /// Whether a task the clock woke has its next step ahead of it: it has not run since its sleep ended, or it
    /// has run for less than ``stepAllowance`` without sleeping on the clock again.
    var hasTasksStepping: Bool {
        state.withLock { state in
            guard state.waking.isEmpty else { return true }
            let now = ContinuousClock.now
            // A task that ended, or waits on something other than the clock, never sleeps again: forget it.
            state.stepping = state.stepping.filter { now - $0.value < Self.longestStepAllowance }
            let allowance = Self.stepAllowance(after: state.slowestStep)
            return state.stepping.values.contains { now - $0 < allowance }
        }
    }

    /// How long a task the clock woke counts as taking its next step when it does not sleep on the clock again:
    /// four times the slowest step seen so far, at least ``shortestStepAllowance``, at most
    /// ``longestStepAllowance``. A task that ends, or waits for something other than the clock, holds the clock up
    /// for this long; on a slow machine (a sanitizer, a loaded CI runner) the allowance grows with the steps.
    static func stepAllowance(after slowestStep: Duration) -> Duration {
        min(max(shortestStepAllowance, slowestStep * 4), longestStepAllowance)
    }

    static let shortestStepAllowance = Duration.milliseconds(50)
    static let longestStepAllowance = Duration.milliseconds(500)

    /// Records that the task `task` sleeps on the clock again (a sleep or a housekeeping timer): its step is over.
    func endStep(of task: TaskKey?) {
        state.withLock { Self.endStep(of: task, in: &$0) }
    }

    private static func endStep(of task: TaskKey?, in state: inout State) {
        guard let task, let resumed = state.stepping.removeValue(forKey: task) else { return }
        state.slowestStep = max(state.slowestStep, resumed.duration(to: .now))
    }

    /// Records that something happened that the clock does not see (a connect, a statement), so that
    /// ``run(timeout:isolation:_:)`` does not take the moment for a settled one.
    func noteActivity() {
        state.withLock { $0.changes += 1 }
    }

    private func wait(count: Int?) async throws -> [Sleep] {
        let id = state.withLock { state in
            defer { state.nextWaiterID += 1 }
            return state.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[Sleep], any Error>) in
                let resumed = state.withLock { state -> [SleepWaiter.Resumption] in
                    if Task.isCancelled {
                        return [.init(continuation: continuation, outcome: .failure(CancellationError()))]
                    }
                    state.waiters.append(SleepWaiter(id: id, count: count, continuation: continuation))
                    return Self.satisfiedWaiters(&state)
                }
                resumed.forEach { $0.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> SleepWaiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Removes the waiters the pending sleeps satisfy, in the order they began waiting.
    private static func satisfiedWaiters(_ state: inout State) -> [SleepWaiter.Resumption] {
        var resumed: [SleepWaiter.Resumption] = []
        var remaining: [SleepWaiter] = []
        for waiter in state.waiters {
            if let count = waiter.count {
                if state.sleepers.count >= count {
                    let pending = state.sleepers.map(\.sleep)
                    resumed.append(.init(continuation: waiter.continuation, outcome: .success(pending)))
                } else {
                    remaining.append(waiter)
                }
            } else if !state.unreported.isEmpty {
                let sleep = state.unreported.removeFirst()
                resumed.append(.init(continuation: waiter.continuation, outcome: .success([sleep])))
            } else {
                remaining.append(waiter)
            }
        }
        state.waiters = remaining
        return resumed
    }
}

extension ManualClock: ClientClock {}
