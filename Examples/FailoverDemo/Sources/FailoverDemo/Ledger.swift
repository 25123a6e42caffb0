import ResilientPostgres
import Synchronization

/// What the writers were told about each write.
final class Ledger: Sendable {
    struct Entries {
        /// Keys whose INSERT the client acknowledged, with when.
        var acknowledged: [String: ContinuousClock.Instant] = [:]
        /// Keys whose INSERT failed with an unknown outcome: they may or may not be in the table.
        var unknown: Set<String> = []
        /// Keys whose INSERT failed and was reported not applied: they must not be in the table.
        var failed: [String: ErrorClass] = [:]
    }

    private let entries = Mutex(Entries())

    func acknowledge(_ key: String, at instant: ContinuousClock.Instant) {
        entries.withLock { _ = $0.acknowledged[key] = instant }
    }

    func record(_ key: String, error: PostgresError) {
        entries.withLock {
            if error.mayHaveBeenApplied { $0.unknown.insert(key) } else { $0.failed[key] = error.errorClass }
        }
    }

    var snapshot: Entries { entries.withLock { $0 } }
}
