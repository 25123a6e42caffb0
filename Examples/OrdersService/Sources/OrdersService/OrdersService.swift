import Foundation
import Hummingbird
import Logging
import OrdersAPI
import ResilientPostgres
import ServiceLifecycle

/// Runs the orders service until SIGTERM or SIGINT, then shuts down gracefully.
///
/// Settings come from the environment (see `ServiceSettings`): `DATABASE_URL` (a libpq connection string or a
/// `postgresql://` URL; libpq's `PG*` variables fill in what it leaves out), `DATABASE_TOKEN_COMMAND` (a command
/// printing the password, an access token, for each new session that needs one), `BIND_HOST` and `PORT`.
@main
struct OrdersService {
    /// How long one database operation may spend retrying before the request is answered with a 503: less than the
    /// 30 seconds many proxies and clients wait for an answer. Clients then repeat the request after `Retry-After`.
    static let databaseBudget: Duration = .seconds(20)

    static func main() async throws {
        let logger = Logger(label: "OrdersService")
        let settings: ServiceSettings
        var configuration: PostgresClient.Configuration
        do {
            settings = try ServiceSettings(environment: ProcessInfo.processInfo.environment)
            configuration = try PostgresClient.Configuration(settings.databaseURL)
        } catch {
            // Both descriptions are redacted: a malformed DATABASE_URL is not echoed.
            logger.critical("cannot start: \(error)")
            exit(1)
        }
        configuration.retryPolicy.budget = databaseBudget
        configuration.credentials = settings.databaseToken?.provider
        configuration.logger = Logger(label: "OrdersService.postgres")
        logger.info("database: \(configuration.connection)")

        let client = PostgresClient(configuration: configuration)
        let app = buildApplication(
            repository: OrderRepository(client: client),
            host: settings.host,
            port: settings.port,
            logger: logger
        )
        // Started in this order and shut down in the reverse one: on a signal the server stops accepting
        // connections and finishes the requests in flight, then the client closes its sessions.
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: client),
                    .init(service: app, successTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }
}
