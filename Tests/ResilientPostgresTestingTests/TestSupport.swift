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

/// Runs `body`, then shuts `client` down whether `body` returned or threw, so that a test that fails leaves no task
/// of the client's suspended behind it (a leak check would report them).
func shuttingDown<Value>(_ client: PostgresClient, after body: () async throws -> Value) async throws -> Value {
    let value: Value
    do {
        value = try await body()
    } catch {
        await client.shutdown()
        throw error
    }
    await client.shutdown()
    return value
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
