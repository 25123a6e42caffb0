import PostgresTransport
import ResilientPostgres
import Synchronization
import Testing
import TestSupport

/// A shutdown that lands while a stream stopped early waits for its statement to stop does not wait on the
/// server: it closes the session.
@Suite("Shutdown while a stopped stream's statement is being stopped", .capturingLogs)
struct StreamShutdownTests {
    @Test func shutdownClosesTheSessionOfAStreamStillBeingStopped() async throws {
        let connector = StallingConnector()
        let parameters = ConnectionParameters(options: ["host": "stalling"])
        var configuration = PostgresClient.Configuration(connection: parameters)
        configuration.logger = .quiet
        let client = PostgresClient(configuration: configuration, connector: connector)

        for try await _ in try await client.rows("SELECT n FROM numbers") { break }
        let session = try #require(connector.session)
        // The stream's clean-up stops the statement, and the server never answers.
        try await session.waitUntilStopping()
        await client.shutdown()

        #expect(session.stopEndedByClose)
        #expect(session.isClosed)
    }
}

private final class StallingConnector: DatabaseConnector {
    private let made = Mutex<StallingSession?>(nil)

    var session: StallingSession? { made.withLock { $0 } }

    func connect(deadline: ContinuousClock.Instant) async throws -> any DatabaseConnection {
        let session = StallingSession()
        made.withLock { $0 = session }
        return session
    }
}

/// A session that streams ten rows and whose `stopStreaming()` waits until the session is closed (or, so that a
/// shutdown that does not close it still ends, a generous while).
private final class StallingSession: DatabaseConnection {
    private struct State {
        var stopping = false
        var closed = false
        var stopEndedByClose = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    var host: String? { "stalling" }
    var port: Int? { 5432 }
    var serverProcess: ServerProcess? { nil }
    var isClosed: Bool { state.withLock { $0.closed } }
    var stopEndedByClose: Bool { state.withLock { $0.stopEndedByClose } }
    var isReadyForReuse: Bool { !isClosed }

    func execute(
        _ sql: String, parameters: [Parameter], resultFormat: ValueFormat, deadline: ContinuousClock.Instant?
    ) async throws -> QueryResult {
        QueryResult.make(columns: [], rows: [], commandTag: "SELECT 0")
    }

    func reportsHotStandby() async -> Bool? { false }
    func resetSession(deallocatingPreparedStatements: Bool, deadline: ContinuousClock.Instant?) async throws {}

    func startRows(
        _ sql: String, parameters: [Parameter], resultFormat: ValueFormat, deadline: ContinuousClock.Instant?
    ) async throws {}

    func nextRows(maximumCount: Int, deadline: ContinuousClock.Instant?) async throws -> [QueryResult]? {
        let column = QueryResult.Column(name: "n", type: PostgresOID(23), format: .text)
        return [QueryResult.make(columns: [column], rows: (1...10).map { [Array("\($0)".utf8)] }, commandTag: "")]
    }

    func stopStreaming() async {
        let fallback = Task { [self] in
            try? await Task.sleep(for: .seconds(60))
            wake(byClose: false)
        }
        await withCheckedContinuation { continuation in
            let closed = state.withLock { state in
                state.stopping = true
                if !state.closed { state.waiter = continuation }
                return state.closed
            }
            if closed { continuation.resume() }
        }
        fallback.cancel()
    }

    func close() async {
        state.withLock { $0.closed = true }
        wake(byClose: true)
    }

    func waitUntilStopping() async throws {
        for _ in 0..<10_000 where !state.withLock({ $0.stopping }) {
            try await Task.sleep(for: .milliseconds(1))
        }
        #expect(state.withLock { $0.stopping })
    }

    private func wake(byClose: Bool) {
        let waiter = state.withLock { state in
            defer { state.waiter = nil }
            if state.waiter != nil { state.stopEndedByClose = byClose }
            return state.waiter
        }
        waiter?.resume()
    }
}
