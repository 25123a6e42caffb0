import Logging
import ResilientPostgres
import ServiceLifecycle

extension GettingStarted {
    /// Runs the client beside the app's HTTP server until SIGTERM, then shuts both down gracefully.
    package static func run(client: PostgresClient, httpServer: some Service, logger: Logger) async throws {
        let group = ServiceGroup(services: [client, httpServer], gracefulShutdownSignals: [.sigterm], logger: logger)
        try await group.run()
    }
}
