import PostgresTransport
import ResilientPostgres
import Synchronization
import Testing
import TestSupport

/// A write whose session was terminated right after the server answered it (a FATAL 57P01 after its
/// `CommandComplete`, ``TransportError/cameAfterAnswer``) may have been committed: the client says so and does not
/// run it again. Terminated before its answer, the same write was rolled back by the server, and is retried.
@Suite("A write answered, then its session terminated", .capturingLogs)
struct AnsweredThenTerminatedClientTests {
    @Test func writeAnsweredThenTerminatedMayHaveBeenApplied() async throws {
        let connector = TerminatingConnector(cameAfterAnswer: true)
        let client = PostgresClient(configuration: Self.configuration, connector: connector)
        let error = await #expect(throws: PostgresError.self) {
            try await client.execute("INSERT INTO payments VALUES (1)")
        }
        #expect(error?.mayHaveBeenApplied == true)
        #expect(error?.reason == .outcomeUnknown)
        #expect(error?.attempts == 1)
        #expect(error?.lastFailure?.sqlState == "57P01")
        #expect(connector.writes == 1)
        await client.shutdown()
    }

    @Test func writeTerminatedBeforeItsAnswerIsRetried() async throws {
        let connector = TerminatingConnector(cameAfterAnswer: false)
        let client = PostgresClient(configuration: Self.configuration, connector: connector)
        #expect(try await client.execute("INSERT INTO payments VALUES (1)") == 1)
        #expect(connector.writes == 2)
        await client.shutdown()
    }

    static var configuration: PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(connection: ConnectionParameters(options: ["host": "fake"]))
        configuration.logger = .quiet
        return configuration
    }
}

/// Sessions whose first `INSERT` ends in FATAL 57P01, as libpq reports it, and whose later ones insert a row.
private final class TerminatingConnector: DatabaseConnector {
    let cameAfterAnswer: Bool
    private let count = Mutex(0)

    init(cameAfterAnswer: Bool) {
        self.cameAfterAnswer = cameAfterAnswer
    }

    /// How many `INSERT`s the sessions were sent.
    var writes: Int { count.withLock { $0 } }

    func connect(deadline: ContinuousClock.Instant) async throws -> any DatabaseConnection {
        TerminatingSession(connector: self)
    }

    /// Counts one write: the first fails (the error libpq's transport throws), every later one succeeds.
    func countWrite() -> TransportError? {
        let number = count.withLock { $0 += 1; return $0 }
        guard number == 1 else { return nil }
        var error = TransportError(
            code: .server, sqlState: "57P01", severity: "FATAL",
            message: "terminating connection due to administrator command",
            host: "fake", port: 5432, phase: .sent, isConnectionUsable: false
        )
        error.cameAfterAnswer = cameAfterAnswer
        return error
    }
}

private final class TerminatingSession: DatabaseConnection {
    let connector: TerminatingConnector
    private let isBroken = Mutex(false)

    init(connector: TerminatingConnector) {
        self.connector = connector
    }

    var host: String? { "fake" }
    var port: Int? { 5432 }
    var serverProcess: ServerProcess? { nil }

    func execute(
        _ sql: String, parameters: [Parameter], resultFormat: ValueFormat, deadline: ContinuousClock.Instant?
    ) async throws -> QueryResult {
        guard sql.hasPrefix("INSERT") else {
            return QueryResult.make(columns: [], rows: [], commandTag: "SELECT 0")
        }
        if let failure = connector.countWrite() {
            isBroken.withLock { $0 = true }
            throw failure
        }
        return QueryResult.make(columns: [], rows: [], commandTag: "INSERT 0 1")
    }

    var isReadyForReuse: Bool { !isBroken.withLock { $0 } }
    func reportsHotStandby() async -> Bool? { false }
    func resetSession(deallocatingPreparedStatements: Bool, deadline: ContinuousClock.Instant?) async throws {}
    func close() async { isBroken.withLock { $0 = true } }
}
