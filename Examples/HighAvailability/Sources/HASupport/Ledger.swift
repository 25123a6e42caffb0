import ResilientPostgres
import Synchronization

/// What workers were told about each write, keyed by a unique key the write stores.
public final class Ledger: Sendable {
    public struct Entries: Sendable {
        /// Keys whose write the client acknowledged, with when.
        public var acknowledged: [String: ContinuousClock.Instant] = [:]
        /// Keys whose write failed with an unknown outcome: they may or may not be stored.
        public var unknown: Set<String> = []
        /// Keys whose write failed and was reported not applied: they must not be stored.
        public var failed: [String: ErrorClass] = [:]
    }

    private let entries = Mutex(Entries())

    public init() {}

    public func acknowledge(_ key: String, at instant: ContinuousClock.Instant = .now) {
        entries.withLock { _ = $0.acknowledged[key] = instant }
    }

    public func record(_ key: String, error: PostgresError) {
        entries.withLock {
            if error.mayHaveBeenApplied { $0.unknown.insert(key) } else { $0.failed[key] = error.errorClass }
        }
    }

    public var snapshot: Entries { entries.withLock { $0 } }
}

/// What the stored rows say about a ledger: every acknowledged key stored exactly once, no failed key stored.
public struct LedgerCheck: Sendable, CustomStringConvertible {
    public var acknowledged: Int
    public var present: Int
    public var lost: Int
    public var duplicated: Int
    public var unknown: Int
    public var unknownApplied: Int
    /// Keys reported as not applied, yet stored.
    public var phantoms: Int

    /// Compares `entries` with `counts`, the number of stored rows for each key.
    public init(_ entries: Ledger.Entries, counts: [String: Int]) {
        let acknowledged = entries.acknowledged.keys
        self.acknowledged = acknowledged.count
        present = acknowledged.filter { counts[$0] == 1 }.count
        lost = acknowledged.filter { counts[$0] == nil }.count
        duplicated = counts.values.filter { $0 > 1 }.count
        unknown = entries.unknown.count
        unknownApplied = entries.unknown.filter { counts[$0] != nil }.count
        phantoms = entries.failed.keys.filter { counts[$0] != nil }.count
    }

    public var passed: Bool { lost == 0 && duplicated == 0 && phantoms == 0 }

    public var description: String {
        "acknowledged=\(acknowledged) present=\(present) lost=\(lost) duplicated=\(duplicated) unknown=\(unknown)"
    }
}
