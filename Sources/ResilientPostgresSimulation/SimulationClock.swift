import ResilientPostgres
import Synchronization

/// Virtual time for one schedule: a clock that stands still until the schedule's driver moves it, and that counts
/// everything that happens on it so the driver can tell when the system is quiescent.
///
/// Every wait of the client (backoff, pool waits, the prober) and of the model server (slow and hung statements,
/// slow connects) is a sleep on this clock. The driver (``ScheduleRunner``) moves time only once every operation is
/// blocked, and then only to the next instant something is due (see `README.md` in this folder, "Time"). Each sleep
/// remembers which task made it, so the driver can check that every live operation is really parked.
final class SimulationClock: ClientClock {
    typealias Instant = ContinuousClock.Instant

    private struct Sleeper {
        let id: UInt64
        let deadline: Instant
        let task: Int?
        /// The pool's housekeeping timer: never the sign that an operation or the prober is parked.
        var isHousekeeping = false
        let continuation: CheckedContinuation<Bool, any Error>
    }

    private struct State {
        var now: Instant
        var sleepers: [Sleeper] = []
        var nextID: UInt64 = 0
        /// Bumped by every event on the clock and in the model: the driver's sign of life.
        var progress: UInt64 = 0
        /// Sleeps ended by ``advance(to:)`` whose tasks have not yet run on from them.
        var waking = 0
    }

    private let state: Mutex<State>
    /// The instant virtual time started at; schedules speak in offsets from it.
    let start: Instant

    init() {
        let now = ContinuousClock.now
        self.start = now
        self.state = Mutex(State(now: now))
    }

    var now: Instant { state.withLock { $0.now } }

    /// Virtual time since the schedule started.
    var elapsed: Duration { start.duration(to: now) }

    /// The count of events so far; unchanged across many yields means nothing is running.
    var progress: UInt64 { state.withLock { $0.progress } }

    /// Whether a sleep that time ended has a task that has not yet run on from it.
    var isWaking: Bool { state.withLock { $0.waking > 0 } }

    /// Records an event that is not a sleep (a statement, a connect, an operation starting or ending).
    func tick() {
        state.withLock { $0.progress &+= 1 }
    }

    /// The earliest instant a pending sleep ends, if any sleeps.
    var earliestDeadline: Instant? {
        state.withLock { $0.sleepers.lazy.map(\.deadline).min() }
    }

    /// The tasks sleeping now (by ``currentTaskKey()``).
    var sleepingTasks: Set<Int> {
        state.withLock { Set($0.sleepers.filter { !$0.isHousekeeping }.compactMap(\.task)) }
    }

    /// A key for the current task, equal for the life of the task and distinct from every other live task's.
    static func currentTaskKey() -> Int? {
        withUnsafeCurrentTask { $0?.hashValue }
    }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        try await sleep(until: deadline, isHousekeeping: false)
    }

    /// The pool's housekeeping sleeps like any other, but the driver does not count it among the sleepers that
    /// show an operation or the prober parked.
    func sleepForHousekeeping(until deadline: Instant) async throws {
        try await sleep(until: deadline, isHousekeeping: true)
    }

    private func sleep(until deadline: Instant, isHousekeeping: Bool) async throws {
        let task = Self.currentTaskKey()
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        defer { tick() }
        // True when `advance(to:)` ended the sleep, which counted the task as waking until it runs on from here.
        let wokenByTime = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Bool, any Error>) in
                let outcome = state.withLock { state -> Result<Bool, any Error>? in
                    state.progress &+= 1
                    // Checked under the lock: a cancellation is either seen here or finds the sleeper registered.
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if deadline <= state.now { return .success(false) }
                    state.sleepers.append(Sleeper(
                        id: id, deadline: deadline, task: task, isHousekeeping: isHousekeeping,
                        continuation: continuation
                    ))
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }

            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                state.progress &+= 1
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
        if wokenByTime { state.withLock { $0.waking -= 1 } }
    }

    /// Moves time to `instant` (if later), ending every sleep due by then, earliest first.
    func advance(to instant: Instant) {
        let due = state.withLock { state -> [Sleeper] in
            guard instant > state.now else { return [] }
            state.now = instant
            state.progress &+= 1
            let due = state.sleepers.filter { $0.deadline <= instant }.sorted { ($0.deadline, $0.id) < ($1.deadline, $1.id) }
            state.sleepers.removeAll { $0.deadline <= instant }
            state.waking += due.count
            return due
        }
        for sleeper in due { sleeper.continuation.resume(returning: true) }
    }
}
