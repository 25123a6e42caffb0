import Foundation
public import ResilientPostgres

/// The `shop_orders` table, reached through a ``PostgresClient`` that retries what is safe to retry.
///
/// Every statement declares what it is, which decides what the client may do when it fails: the insert is
/// idempotent (keyed by the idempotency key, a second run changes nothing), the reads are read-only. Failures the
/// client could not retry away are thrown as ``PostgresError``.
public struct OrderRepository: Sendable {
    /// The client every statement goes through.
    public let client: PostgresClient

    /// A repository whose statements go through `client`.
    public init(client: PostgresClient) {
        self.client = client
    }

    /// What ``place(_:key:)`` found under the key once the order was written or found already there.
    public enum Placement: Sendable, Hashable {
        /// The order is recorded under the key: by this call, or by an earlier one with the same request.
        case recorded(Order)
        /// A different order is recorded under the key; nothing was written.
        case conflict(existing: Order)
    }

    /// Creates the table if it is missing.
    ///
    /// - Throws: ``PostgresError`` if the database stays unreachable for the whole budget, or refuses the statement.
    public func createTable() async throws {
        // `IF NOT EXISTS` makes it idempotent: retried even if the answer to an attempt was lost.
        try await client.execute(
            """
            CREATE TABLE IF NOT EXISTS shop_orders (
                key text PRIMARY KEY,
                customer text NOT NULL,
                item text NOT NULL,
                quantity bigint NOT NULL,
                placed_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            options: .idempotent
        )
    }

    /// Records `request` under `key` unless an order is already recorded there, then reads back what is.
    ///
    /// Calling it again with the same key and request, after a success or any failure, returns the same order and
    /// writes nothing more: that is what makes `PUT /orders/{key}` safe to repeat.
    ///
    /// - Throws: ``PostgresError`` when the database failed beyond what the client could retry.
    public func place(_ request: OrderRequest, key: OrderKey) async throws -> Placement {
        // Running it twice has the effect of running it once, so the client may run it again even when the answer
        // to an attempt was lost in flight (outcome unknown): `.idempotent` says so. Whether this call or an earlier
        // one wrote the row is not known, and does not matter: the row read back decides the answer.
        try await client.execute(
            """
            INSERT INTO shop_orders (key, customer, item, quantity)
            VALUES (\(key.text), \(request.customer), \(request.item), \(request.quantity))
            ON CONFLICT (key) DO NOTHING
            """,
            options: .idempotent
        )
        guard let stored = try await order(key: key) else {
            // Nothing in this service deletes orders: the table was emptied behind its back.
            throw OrderVanished(key: key)
        }
        return stored.request == request ? .recorded(stored) : .conflict(existing: stored)
    }

    /// The order recorded under `key`, or nil when there is none.
    ///
    /// - Throws: ``PostgresError`` when the database failed beyond what the client could retry.
    public func order(key: OrderKey) async throws -> Order? {
        let rows = try await client.query(
            "SELECT key, customer, item, quantity, placed_at FROM shop_orders WHERE key = \(key.text)",
            options: .readOnly
        )
        guard let row = rows.first else { return nil }
        let (key, customer, item, quantity, placedAt) = try row.decode((String, String, String, Int, Date).self)
        return Order(key: key, customer: customer, item: item, quantity: quantity, placedAt: placedAt)
    }
}

/// An order written or found by ``OrderRepository/place(_:key:)`` was gone when read back.
public struct OrderVanished: Error, Sendable, Hashable {
    /// The key it was placed under.
    public var key: OrderKey
}
