import PriceCache
import ResilientPostgres
import ResilientPostgresTesting
import Synchronization
import Testing

/// The cache against a scripted database: loaded when the listener starts, an entry dropped by its notification,
/// everything reloaded after the listener's session was lost.
@Suite("Price cache")
struct PriceCacheTests {
    /// The `products` table of the scripted database, which the test changes as a writer would.
    final class Products: Sendable {
        let prices = Mutex<[Int: Int]>([1: 100, 2: 250])

        func answer(on database: ScriptedDatabase) {
            database.answer("SELECT id, price_cents FROM products") { [self] _ in
                let rows = prices.withLock { $0.sorted { $0.key < $1.key }.map { [$0.key, $0.value] } }
                return .rows(["id", "price_cents"], rows)
            }
            database.answer("SELECT price_cents FROM products WHERE id") { [self] statement in
                let id = (try? statement.parameter(0, as: Int.self)) ?? 0
                return .rows(["price_cents"], prices.withLock { $0[id].map { [[$0]] } ?? [] })
            }
        }
    }

    static func reloads(_ database: ScriptedDatabase) -> Int {
        database.statements(matching: "SELECT id, price_cents FROM products").count
    }

    /// Waits, in real time, until `condition` holds (10 s at most).
    static func eventually(
        _ what: Comment,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ condition: () async throws -> Bool
    ) async throws {
        let givingUp = ContinuousClock.now.advanced(by: .seconds(10))
        while try await !condition() {
            guard ContinuousClock.now < givingUp else {
                Issue.record("waited 10 s for \(what)", sourceLocation: sourceLocation)
                return
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    @Test func aNotificationDropsTheEntryAndAGapReloadsEverything() async throws {
        let database = ScriptedDatabase()
        let products = Products()
        products.answer(on: database)
        let client = PostgresClient.testing(database)
        let cache = PriceCache(client: client)
        let listening = Task { try await cache.keepInStep() }

        // Loaded once the listener listens.
        try await Self.eventually("the first load") { cache.count == 2 }
        #expect(try await cache.price(of: 1) == 100)

        // A writer changes a price; the trigger's notification drops the entry, and the next read sees the change.
        products.prices.withLock { $0[1] = 120 }
        database.notify("prices", payload: "1")
        try await Self.eventually("the new price") { try await cache.price(of: 1) == 120 }

        // The listener's session is lost: changes made meanwhile sent notifications no one received. The gap
        // reloads them.
        products.prices.withLock { $0[2] = 300 }
        database.terminateSessions()
        try await database.clock.run(for: .seconds(5))  // the reload's read reconnects after a backoff
        // (A reload whose read met the terminated pooled session is retried, and counts as one more statement.)
        try await Self.eventually("the reload") { Self.reloads(database) >= 2 && cache.count == 2 }
        #expect(try await cache.price(of: 2) == 300)

        listening.cancel()
        try await listening.value
        await client.shutdown()
    }
}
