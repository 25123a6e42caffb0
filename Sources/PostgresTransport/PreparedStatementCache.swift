/// The named statements one session has prepared on the server, keyed by SQL text and parameter types, the least
/// recently used evicted first.
///
/// Names are never reused within a session (`resilient_postgres_1`, `resilient_postgres_2`, ...), so preparing
/// never meets a name still in use.
/// Evicted names wait in ``pendingDeallocations`` until the connection sends their `DEALLOCATE`.
struct PreparedStatementCache {
    /// What identifies a prepared statement: its text, and the parameter types fixed when it was prepared.
    struct Key: Hashable {
        var sql: String
        var parameterTypes: [PostgresOID]
    }

    private struct Entry {
        var name: String
        var lastUse: UInt64
    }

    /// The most statements kept; 0 or less turns the cache off.
    let capacity: Int
    private var entries: [Key: Entry] = [:]
    private var names: [String: Key] = [:]
    private var useCounter: UInt64 = 0
    private var nameCounter: UInt64 = 0
    /// Names evicted or invalidated that are still prepared on the server.
    private(set) var pendingDeallocations: [String] = []

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Whether the cache is on.
    var isEnabled: Bool { capacity > 0 }

    /// The number of statements cached.
    var count: Int { entries.count }

    /// The name of the statement prepared for `key`, marked as just used; nil when there is none.
    mutating func name(for key: Key) -> String? {
        guard var entry = entries[key] else { return nil }
        useCounter += 1
        entry.lastUse = useCounter
        entries[key] = entry
        return entry.name
    }

    /// Records a new name for `key`, evicting the least recently used statement when the cache is full. The caller
    /// prepares it, and calls ``forget(_:isStillPrepared:)`` if that fails.
    mutating func add(_ key: Key) -> String {
        if entries.count >= capacity, let (oldest, entry) = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            entries[oldest] = nil
            names[entry.name] = nil
            pendingDeallocations.append(entry.name)
        }
        nameCounter += 1
        useCounter += 1
        let name = "resilient_postgres_\(nameCounter)"
        entries[key] = Entry(name: name, lastUse: useCounter)
        names[name] = key
        return name
    }

    /// Forgets the statement called `name`; when the server still has it, its name waits for `DEALLOCATE`.
    mutating func forget(_ name: String, isStillPrepared: Bool) {
        guard let key = names.removeValue(forKey: name) else { return }
        entries[key] = nil
        if isStillPrepared { pendingDeallocations.append(name) }
    }

    /// Hands over the names waiting for `DEALLOCATE`; those not deallocated after all are given back with
    /// ``deallocationFailed(_:)``.
    mutating func takePendingDeallocations() -> [String] {
        defer { pendingDeallocations.removeAll() }
        return pendingDeallocations
    }

    /// Gives back names whose `DEALLOCATE` did not run, to be sent another time.
    mutating func deallocationFailed(_ names: [String]) {
        pendingDeallocations.append(contentsOf: names)
    }

    /// Forgets every statement: the server no longer has any (after `DEALLOCATE ALL`).
    mutating func removeAll() {
        entries.removeAll()
        names.removeAll()
        pendingDeallocations.removeAll()
    }
}
