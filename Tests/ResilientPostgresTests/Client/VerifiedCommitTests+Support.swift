import ResilientPostgres
import ResilientPostgresTesting
import Synchronization

extension VerifiedCommitTests {
    /// The attempt events a client reported, in order.
    final class EventLog: Sendable {
        private let events = Mutex<[AttemptEvent]>([])

        func record(_ event: AttemptEvent) {
            events.withLock { $0.append(event) }
        }

        var outcomes: [AttemptEvent.Outcome] { events.withLock { $0.map(\.outcome) } }
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

    /// A payment insert as an app would write it: bound key and amount.
    static func insertPayment(_ key: String, cents: Int) -> PostgresQuery {
        "INSERT INTO payments (key, amount_cents) VALUES (\(key), \(cents))"
    }
}

