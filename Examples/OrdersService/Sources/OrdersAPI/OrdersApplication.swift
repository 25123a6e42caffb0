public import Hummingbird
public import Logging

/// The HTTP application: the order routes, listening on `host` and `port`, which creates the orders table (if it is
/// missing) before it accepts a request.
///
/// The database client is not one of its services: run it beside the application in one `ServiceGroup`, so that a
/// graceful shutdown stops the server (letting requests in flight finish) before the client.
public func buildApplication(
    repository: OrderRepository,
    host: String = "127.0.0.1",
    port: Int = 8080,
    retryAfter: Duration = .seconds(5),
    logger: Logger = Logger(label: "OrdersService")
) -> Application<RouterResponder<BasicRequestContext>> {
    var app = Application(
        router: buildRouter(repository: repository, retryAfter: retryAfter),
        configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "OrdersService"),
        logger: logger
    )
    app.beforeServerStarts {
        try await repository.createTable()
    }
    return app
}
