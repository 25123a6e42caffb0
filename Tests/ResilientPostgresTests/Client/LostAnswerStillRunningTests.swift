import PostgresTransport
import ResilientPostgres
import Synchronization
import Testing
import TestSupport

/// A write whose answer was lost while the server, not yet aware of it, goes on running the statement: a
/// verification must not read "not applied" before that statement is over.
@Suite("A lost answer whose statement still runs", .capturingLogs, .enabled(if: ClientTestServer.isAvailable, ClientTestServer.skipReason))
struct LostAnswerStillRunningTests {
    @Test func verificationWaitsForTheStatementThatLostItsAnswer() async throws {
        let table = ClientTestServer.uniqueTable("still_running")
        let admin = try await ClientTestServer.session()
        _ = try await admin.execute("CREATE TABLE \(table) (key text NOT NULL)")
        let client = PostgresClient(
            configuration: ClientTestServer.configuration(),
            connector: StillRunningConnector(
                real: LibPQConnector(
                    parameters: ClientTestServer.parameters, connectTimeout: .seconds(10), options: .init()
                ),
                losing: "INSERT INTO \(table)"
            )
        )

        // The first INSERT's answer is lost at once, while the server sleeps a second before inserting the row.
        let outcome = try await client.execute(
            "INSERT INTO \(unsafeRaw: table) (key) SELECT \("k") FROM pg_sleep(1)",
            verifyingWith: { client in
                try await client.query("SELECT 1 FROM \(unsafeRaw: table) WHERE key = \("k")", options: .readOnly)
                    .count == 1
            }
        )
        // Whatever the verification found, the row is there exactly once once the lost statement would have ended.
        try await Task.sleep(for: .seconds(2))
        let rows = try await admin.execute("SELECT count(*) FROM \(table)")
        #expect(rows.string(row: 0, column: 0) == "1", "\(outcome)")
        _ = try await admin.execute("DROP TABLE \(table)")
        await admin.close()
        await client.shutdown()
    }
}

/// Sessions whose first statement matching a prefix is sent on a connection of its own and left running there, while
/// the caller is told the connection was lost after sending: as when the network fails and the server has not yet
/// noticed. The session reports that connection's server process.
private struct StillRunningConnector: DatabaseConnector {
    let real: LibPQConnector
    let losing: String
    private let lost = Lost()

    /// Whether the one lost answer was handed out already.
    private final class Lost: Sendable {
        let value = Mutex(false)
    }

    func connect(deadline: ContinuousClock.Instant) async throws -> any DatabaseConnection {
        StillRunningSession(real: try await real.connect(deadline: deadline), connector: self)
    }

    func takeLoss() -> Bool {
        lost.value.withLock { lost in
            defer { lost = true }
            return !lost
        }
    }
}

private final class StillRunningSession: DatabaseConnection {
    let real: any DatabaseConnection
    let connector: StillRunningConnector
    private let running = Mutex<(process: ServerProcess?, broken: Bool)>((nil, false))

    init(real: any DatabaseConnection, connector: StillRunningConnector) {
        self.real = real
        self.connector = connector
    }

    var host: String? { real.host }
    var port: Int? { real.port }
    var serverProcess: ServerProcess? { running.withLock { $0.process } ?? real.serverProcess }

    func execute(
        _ sql: String, parameters: [Parameter], resultFormat: ValueFormat, deadline: ContinuousClock.Instant?
    ) async throws -> QueryResult {
        guard sql.hasPrefix(connector.losing), connector.takeLoss() else {
            return try await real.execute(sql, parameters: parameters, resultFormat: resultFormat, deadline: deadline)
        }
        let elsewhere = try await connector.real.connect(deadline: .now.advanced(by: .seconds(10)))
        running.withLock { $0 = (elsewhere.serverProcess, true) }
        Task {
            _ = try? await elsewhere.execute(sql, parameters: parameters, resultFormat: resultFormat, deadline: nil)
            await elsewhere.close()
        }
        // Let the statement reach the server before the answer is "lost".
        try await Task.sleep(for: .milliseconds(200))
        throw TransportError(code: .connectionLost, message: "server closed the connection unexpectedly",
                             host: host, port: port, phase: .sent, isConnectionUsable: false)
    }

    var isReadyForReuse: Bool {
        guard !running.withLock({ $0.broken }) else { return false }
        return real.isReadyForReuse
    }

    func reportsHotStandby() async -> Bool? { await real.reportsHotStandby() }

    func resetSession(deallocatingPreparedStatements: Bool, deadline: ContinuousClock.Instant?) async throws {
        try await real.resetSession(deallocatingPreparedStatements: deallocatingPreparedStatements, deadline: deadline)
    }

    func close() async { await real.close() }
}
