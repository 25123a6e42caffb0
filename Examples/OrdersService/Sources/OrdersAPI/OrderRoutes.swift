public import Hummingbird

/// The service's routes: `PUT /orders/{key}` records an order once, `GET /orders/{key}` reads it back.
///
/// A ``PostgresError`` from either becomes the answer ``FailureAnswer`` gives, with `Retry-After: retryAfter` on a
/// 503.
public func buildRouter(
    repository: OrderRepository,
    retryAfter: Duration = .seconds(5)
) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: DatabaseFailureMiddleware(retryAfter: retryAfter))
    let routes = OrderRoutes(repository: repository)
    router.put("/orders/{key}", use: routes.place)
    router.get("/orders/{key}", use: routes.read)
    return router
}

/// The handlers behind ``buildRouter(repository:retryAfter:)``.
struct OrderRoutes: Sendable {
    let repository: OrderRepository

    /// `PUT /orders/{key}`: 201 with the order, whether this request recorded it or an earlier one with the same key
    /// and body did, so a repeated request gets the very answer the first one got; 409 if the key holds a different
    /// order; 400 for a malformed key or body, 422 for an order that cannot be placed.
    @Sendable
    func place(_ request: Request, context: BasicRequestContext) async throws -> EditedResponse<Order> {
        let key = try Self.key(context)
        let body = try await request.decode(as: OrderRequest.self, context: context)
        if let problem = body.problem {
            throw HTTPError(.unprocessableContent, message: problem)
        }
        switch try await repository.place(body, key: key) {
        case .recorded(let order):
            return EditedResponse(status: .created, headers: [.location: "/orders/\(key)"], response: order)
        case .conflict:
            throw HTTPError(.conflict, message: "Order key \(key) already holds a different order.")
        }
    }

    /// `GET /orders/{key}`: 200 with the order, or 404.
    @Sendable
    func read(_ request: Request, context: BasicRequestContext) async throws -> Order {
        let key = try Self.key(context)
        guard let order = try await repository.order(key: key) else {
            throw HTTPError(.notFound, message: "No order has key \(key).")
        }
        return order
    }

    private static func key(_ context: BasicRequestContext) throws -> OrderKey {
        guard let key = context.parameters.get("key").flatMap(OrderKey.init) else {
            throw HTTPError(
                .badRequest,
                message: "An order key is 1 to \(OrderKey.maximumLength) letters, digits, '-', '_', '.' or '~'."
            )
        }
        return key
    }
}
