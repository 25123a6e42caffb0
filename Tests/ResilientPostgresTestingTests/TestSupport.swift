import ResilientPostgres
import ResilientPostgresTesting
import Synchronization
import Testing

/// The attempt events a client reported, in order.
final class EventLog: Sendable {
    private let events = Mutex<[AttemptEvent]>([])

    func record(_ event: AttemptEvent) {
        events.withLock { $0.append(event) }
    }

    var all: [AttemptEvent] { events.withLock { $0 } }
    var outcomes: [AttemptEvent.Outcome] { all.map(\.outcome) }
}

/// A count shared with a closure that may run more than once.
final class Counter: Sendable {
    private let value = Mutex(0)

    @discardableResult
    func increment() -> Int {
        value.withLock { value in
            value += 1
            return value
        }
    }

    var count: Int { value.withLock { $0 } }
}

extension ScriptedDatabase {
    /// The SQL of every statement so far, in order.
    var sqlLog: [String] { statements.map(\.sql) }
}

/// A payment insert as an app would write it: bound key and amount.
func insertPayment(_ key: String, cents: Int) -> PostgresQuery {
    "INSERT INTO payments (key, amount_cents) VALUES (\(key), \(cents))"
}

extension AttemptEvent.Outcome {
    /// Whether the client went on to retry.
    var isRetry: Bool {
        if case .willRetry = self { true } else { false }
    }
}

extension ManualClock {
    /// Runs `operation`, moving the clock to the next pending sleep whenever nothing else is left to run, until it
    /// ends or `limit` of clock time has passed (then it is cancelled).
    ///
    /// "Nothing else to run" is judged in real time: the set of pending sleeps stayed the same across a few short
    /// real pauses.
    func advancing<T: Sendable>(
        limit: Duration = .seconds(600),
        _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let task = Task { try await operation() }
        let finished = Flag()
        let watcher = Task {
            _ = try? await task.value
            finished.set()
        }
        var stable = 0
        var lastSeen: [Int] = []
        while !finished.isSet {
            try await Task.sleep(for: .milliseconds(1))
            let seen = pendingSleeps.map(\.number)
            stable = seen == lastSeen ? stable + 1 : 0
            lastSeen = seen
            guard stable >= 3 else { continue }
            if elapsed >= limit {
                task.cancel()
                break
            }
            advanceToNextSleep()
            stable = 0
        }
        _ = await watcher.value
        return try await task.value
    }
}

/// A flag set once, read from any task.
final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
