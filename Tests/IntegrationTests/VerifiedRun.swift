import ResilientPostgres
import Synchronization

/// What a block with a verified commit saw: how many times it ran, and the attempt events of its client.
final class VerifiedRun: Sendable {
    let runs = Mutex(0)
    let outcomes = Mutex<[AttemptEvent.Outcome]>([])

    /// Counts a run of the block and returns its number, from 1.
    func nextRun() -> Int { runs.withLock { $0 += 1; return $0 } }

    /// Records an attempt event (`Configuration.onAttempt`).
    func record(_ event: AttemptEvent) { outcomes.withLock { $0.append(event.outcome) } }
}
