public import ResilientPostgres
import Logging
import PostgresTransport

extension PostgresClient {
    /// A client whose sessions are those of `database` and whose time is the database's ``ManualClock``.
    ///
    /// The configuration is the production default (retry policy, 60-second budget, pool size, reconnect backoff,
    /// throttle) with a logger that discards everything; change any of it in `configure`. Every jitter is drawn from
    /// generators seeded from `randomSeed`, so a test takes the same path, with the same waits, on every run.
    public static func testing(
        _ database: ScriptedDatabase,
        randomSeed: UInt64 = 0,
        configure: (inout Configuration) -> Void = { _ in }
    ) -> PostgresClient {
        var configuration = Configuration(connection: ConnectionParameters(options: [
            "host": database.host, "port": String(database.port), "dbname": "app", "user": "app",
        ]))
        configuration.logger = Logger(label: "ResilientPostgresTesting", factory: { _ in SwiftLogNoOpLogHandler() })
        configure(&configuration)
        return PostgresClient(
            configuration: configuration,
            connector: ScriptedConnector(database: database, connectTimeout: configuration.connectTimeout),
            clock: database.clock,
            randomSeed: randomSeed
        )
    }

    /// A client of the real database `configuration` names, whose connects and statements meet the faults planned
    /// in `faults` and otherwise run for real, on the real clock.
    ///
    /// With a `randomSeed`, every jitter the client draws is reproducible.
    public static func testing(
        _ configuration: Configuration,
        injecting faults: FaultInjector,
        randomSeed: UInt64? = nil
    ) -> PostgresClient {
        let real = LibPQConnector(
            parameters: configuration.connection,
            connectTimeout: configuration.connectTimeout,
            options: LibPQConnection.Options(
                cancelGracePeriod: configuration.cancelGracePeriod,
                hostConnectTimeout: configuration.hostConnectTimeout
            )
        )
        let connector = FaultInjectingConnector(
            real: real,
            faults: faults,
            host: configuration.connection["host"] ?? "localhost",
            port: configuration.connection["port"].flatMap { Int($0) } ?? 5432,
            connectTimeout: configuration.connectTimeout
        )
        return PostgresClient(configuration: configuration, connector: connector, randomSeed: randomSeed)
    }
}
