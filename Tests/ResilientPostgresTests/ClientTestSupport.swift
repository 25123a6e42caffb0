import Foundation
import PostgresTransport
import ResilientPostgres
import Synchronization
import Testing

/// The main server `make test` starts, from the `POSTGRES_*` variables it exports.
enum ClientTestServer {
    static let environment = ProcessInfo.processInfo.environment
    static let isAvailable = environment["POSTGRES_PORT"] != nil
    static let skipReason: Comment = "needs the PostgreSQL servers that `make test` starts (POSTGRES_* unset)"

    static var parameters: ConnectionParameters {
        ConnectionParameters(options: [
            "host": environment["POSTGRES_HOST"] ?? "127.0.0.1",
            "port": environment["POSTGRES_PORT"] ?? "5432",
            "user": environment["POSTGRES_USER"] ?? "postgres",
            "dbname": environment["POSTGRES_DB"] ?? "postgres",
        ])
    }

    static func configuration(_ adjust: (inout PostgresClient.Configuration) -> Void = { _ in }) -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(connection: parameters)
        adjust(&configuration)
        return configuration
    }

    /// A direct session, outside any client, to set up and inspect.
    static func session() async throws -> LibPQConnection {
        try await LibPQConnection.connect(parameters)
    }

    /// A table name unique to one test, so that tests running in parallel do not meet.
    static func uniqueTable(_ prefix: String) -> String {
        "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
    }
}

/// Opens real sessions, but makes the statements it is told to fail with the given facts, without sending them.
final class FailingConnector: DatabaseConnector {
    private let real: any DatabaseConnector
    private let failures: Mutex<[TransportError]>
    let executions = Mutex(0)

    init(real: any DatabaseConnector, failing failures: [TransportError]) {
        self.real = real
        self.failures = Mutex(failures)
    }

    func connect(deadline: ContinuousClock.Instant) async throws -> any DatabaseConnection {
        FailingConnection(real: try await real.connect(deadline: deadline), connector: self)
    }

    fileprivate func nextFailure() -> TransportError? {
        executions.withLock { $0 += 1 }
        return failures.withLock { $0.isEmpty ? nil : $0.removeFirst() }
    }
}

private final class FailingConnection: DatabaseConnection {
    let real: any DatabaseConnection
    let connector: FailingConnector
    private let broken = Mutex(false)

    init(real: any DatabaseConnection, connector: FailingConnector) {
        self.real = real
        self.connector = connector
    }

    var host: String? { real.host }
    var port: Int? { real.port }

    func execute(
        _ sql: String, parameters: [Parameter], resultFormat: ValueFormat, deadline: ContinuousClock.Instant?
    ) async throws -> QueryResult {
        if let failure = connector.nextFailure() {
            if !failure.isConnectionUsable { broken.withLock { $0 = true } }
            throw failure
        }
        return try await real.execute(sql, parameters: parameters, resultFormat: resultFormat, deadline: deadline)
    }

    func isReadyForReuse() async -> Bool {
        broken.withLock { !$0 } ? await real.isReadyForReuse() : false
    }

    func reportsHotStandby() async -> Bool? { await real.reportsHotStandby() }
    func close() async { await real.close() }
}

/// libpq's report of a connection lost after the request was sent, with no SQLSTATE: the outcome is unknown.
let lostAfterSend = TransportError(
    code: .connectionLost,
    message: "server closed the connection unexpectedly",
    host: "127.0.0.1",
    phase: .sent,
    isConnectionUsable: false
)
