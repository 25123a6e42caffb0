import ResilientPostgres
import Synchronization

/// The prices of the `products` table, kept in memory and in step with the table: a notification on channel
/// `prices` (sent by ``schema``'s trigger with the product's id) drops that product's entry, and a gap reloads them
/// all, as notifications may have been missed.
public final class PriceCache: Sendable {
    /// The table and the trigger that notifies every change, with the product's id as the payload.
    public static let schema = """
        CREATE TABLE IF NOT EXISTS products (id int PRIMARY KEY, price_cents int NOT NULL);
        CREATE OR REPLACE FUNCTION notify_price() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('prices', COALESCE(NEW.id, OLD.id)::text);
            RETURN NULL;
        END $$;
        CREATE OR REPLACE TRIGGER price_changed AFTER INSERT OR UPDATE OR DELETE ON products
            FOR EACH ROW EXECUTE FUNCTION notify_price();
        """

    private struct Entries {
        var prices: [Int: Int] = [:]
        /// Moves on with every invalidation, so that a read that raced one does not store what it read.
        var generation = 0
    }

    private let client: PostgresClient
    private let entries = Mutex(Entries())

    /// A cache of the prices `client` reads; empty until ``keepInStep()`` runs.
    public init(client: PostgresClient) {
        self.client = client
    }

    /// The price of product `id` in cents, from the cache or else from the table; nil when there is no such product.
    public func price(of id: Int) async throws -> Int? {
        let (cached, generation) = entries.withLock { ($0.prices[id], $0.generation) }
        if let cached { return cached }
        let rows = try await client.query("SELECT price_cents FROM products WHERE id = \(id)", options: .readOnly)
        guard let cents = try rows.decode(Int.self).first else { return nil }
        entries.withLock { entries in
            if entries.generation == generation { entries.prices[id] = cents }
        }
        return cents
    }

    /// Keeps the cache in step with the table until the calling task is cancelled.
    ///
    /// - Throws: `ListenerError` when the client reaches the database through a pooler, where notifications cannot
    ///   be relied on: give it a `listenConnection` straight to the server.
    public func keepInStep() async throws {
        for try await event in client.listen(to: "prices") {
            switch event {
            case .listening, .gap:
                await reload()  // notifications may have been missed: start from the table
            case .notification(let notification):
                invalidate(Int(notification.payload))
            case .reconnecting:
                break  // the listener is still trying; a gap follows
            }
        }
    }

    /// Drops product `id`'s entry (every entry, for a payload that is not an id).
    func invalidate(_ id: Int?) {
        entries.withLock { entries in
            entries.generation += 1
            if let id { entries.prices[id] = nil } else { entries.prices.removeAll() }
        }
    }

    /// Replaces every entry with the table's prices; when that fails, leaves the cache empty, so that reads go to
    /// the table.
    func reload() async {
        invalidate(nil)
        let generation = entries.withLock { $0.generation }
        guard let rows = try? await client.query("SELECT id, price_cents FROM products", options: .readOnly),
            let prices = try? rows.decode((Int, Int).self)
        else { return }
        entries.withLock { entries in
            guard entries.generation == generation else { return }
            entries.prices = Dictionary(prices, uniquingKeysWith: { _, last in last })
        }
    }

    /// How many prices are cached.
    public var count: Int { entries.withLock { $0.prices.count } }
}
