import ResilientPostgres
import Synchronization

extension ManualClock {
    /// When the client's housekeeping is next due (closing sessions idle past the idle timeout or open past their
    /// lifetime, keeping the minimum idle sessions), earliest first.
    ///
    /// These waits are not among ``pendingSleeps``, and ``nextSleep(timeout:)`` does not return them: a test steps
    /// through the waits of its operations without meeting the pool's timers. Advancing the clock past one runs it.
    public var pendingHousekeeping: [Instant] { housekeeping.pending }

    package func sleepForHousekeeping(until deadline: Instant) async throws {
        if deadline > now { endStep(of: Self.currentTaskKey) }
        try await housekeeping.sleep(until: deadline, on: self)
    }
}

/// Timers that end when a ``ManualClock`` is advanced past them, kept apart from its sleeps.
final class HousekeepingTimers: Sendable {
    private struct Timer {
        let id: Int
        let deadline: ManualClock.Instant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var timers: [Timer] = []
        var nextID = 0
    }

    private let state = Mutex(State())

    var pending: [ManualClock.Instant] { state.withLock { $0.timers.map(\.deadline).sorted() } }

    /// Waits until the clock is advanced to `deadline`; throws `CancellationError` when the task is cancelled.
    func sleep(until deadline: ManualClock.Instant, on clock: ManualClock) async throws {
        guard deadline > clock.now else { return }
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let cancelled = state.withLock { state -> Bool in
                    // Checked under the lock, so a cancellation either is seen here or finds the timer registered.
                    if Task.isCancelled { return true }
                    state.timers.append(Timer(id: id, deadline: deadline, continuation: continuation))
                    return false
                }
                if cancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    // The clock may have been advanced past the deadline while the timer was being registered.
                    fire(upTo: clock.now)
                }
            }
        } onCancel: {
            let timer = state.withLock { state -> Timer? in
                guard let index = state.timers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.timers.remove(at: index)
            }
            timer?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Ends every timer due at `now`.
    func fire(upTo now: ManualClock.Instant) {
        let due = state.withLock { state -> [Timer] in
            let due = state.timers.filter { $0.deadline <= now }
            state.timers.removeAll { $0.deadline <= now }
            return due
        }
        for timer in due { timer.continuation.resume() }
    }
}
