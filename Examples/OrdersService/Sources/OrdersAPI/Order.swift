public import Foundation
public import Hummingbird

/// What a client sends to place an order: the body of `PUT /orders/{key}`.
///
/// Two requests are the same order when their fields are equal, however their JSON is laid out.
public struct OrderRequest: Codable, Sendable, Hashable {
    /// Who the order is for.
    public var customer: String
    /// What is ordered.
    public var item: String
    /// How many, from 1 to ``maximumQuantity``.
    public var quantity: Int

    /// The largest quantity one order may ask for.
    public static let maximumQuantity = 10_000
    /// The longest customer or item name, in characters.
    public static let maximumNameLength = 200

    /// A request with the given fields.
    public init(customer: String, item: String, quantity: Int) {
        self.customer = customer
        self.item = item
        self.quantity = quantity
    }

    /// Why the request cannot be recorded, or nil when it can.
    public var problem: String? {
        if customer.isEmpty || customer.count > Self.maximumNameLength {
            return "customer must be 1 to \(Self.maximumNameLength) characters"
        }
        if item.isEmpty || item.count > Self.maximumNameLength {
            return "item must be 1 to \(Self.maximumNameLength) characters"
        }
        if !(1...Self.maximumQuantity).contains(quantity) {
            return "quantity must be 1 to \(Self.maximumQuantity)"
        }
        return nil
    }
}

/// An order as recorded: what `PUT /orders/{key}` and `GET /orders/{key}` answer with.
public struct Order: ResponseCodable, Sendable, Hashable {
    /// The idempotency key the order was placed under.
    public var key: String
    /// Who the order is for.
    public var customer: String
    /// What is ordered.
    public var item: String
    /// How many.
    public var quantity: Int
    /// When the database recorded it (by the first request with this key, whichever of its attempts succeeded).
    public var placedAt: Date

    /// An order with the given fields.
    public init(key: String, customer: String, item: String, quantity: Int, placedAt: Date) {
        self.key = key
        self.customer = customer
        self.item = item
        self.quantity = quantity
        self.placedAt = placedAt
    }

    /// The request this order records.
    public var request: OrderRequest {
        OrderRequest(customer: customer, item: item, quantity: quantity)
    }

    /// The order as JSON, its keys sorted, so that every answer about one order is the same, byte for byte.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = .sortedKeys
        return try encoder.encode(self, from: request, context: context)
    }
}
