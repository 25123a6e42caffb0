import PostgresTransport
import ResilientPostgres
import Synchronization
import Testing
import TestSupport

/// A shutdown that lands while the pool resets a returned session, or while it opens one, never leaves a session
/// parked or an operation running after it.
@Suite("Shutdown while a session is reset or opened", .capturingLogs)
struct ShutdownRaceTests {
    @Test func sessionReturnedDuringShutdownIsClosedNotParked() async throws {
        let gate = Gate()
        let connector = GatedConnector(gate: gate, gatesReset: true)
        let client = PostgresClient(configuration: Self.configuration, connector: connector)

        let operation = Task { try await client.withConnection { try await $0.execute("SELECT 1") } }
        // The statement ran; the pool resets the session the app used, and the reset waits for the gate.
        try await gate.waitUntilReached()
        await client.shutdown()
        gate.open()
        _ = try await operation.value
        let sessions = connector.sessions
        #expect(!sessions.isEmpty)
        #expect(sessions.allSatisfy { $0.isClosed })
    }

    @Test func connectThatEndsAfterShutdownRunsNothing() async throws {
        let gate = Gate()
        let connector = GatedConnector(gate: gate, gatesReset: false)
        let client = PostgresClient(configuration: Self.configuration, connector: connector)

        let operation = Task { try await client.execute("SELECT 1") }
        try await gate.waitUntilReached()
        await client.shutdown()
        gate.open()
        let error = await #expect(throws: PostgresError.self) { try await operation.value }
        #expect(error?.reason == .permanent)
        let sessions = connector.sessions
        #expect(!sessions.isEmpty)
        #expect(sessions.allSatisfy { $0.statements == 0 && $0.isClosed })
    }

    static var configuration: PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(connection: ConnectionParameters(options: ["host": "gated"]))
        configuration.logger = .quiet
        return configuration
    }
}

/// A one-way gate: the first task to reach it waits until it is opened.
private final class Gate: Sendable {
    private let state = Mutex<(reached: Bool, open: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, false, nil))

    func pass() async {
        await withCheckedContinuation { continuation in
            let passNow = state.withLock { state -> Bool in
                state.reached = true
                if state.open { return true }
                state.waiter = continuation
                return false
            }
            if passNow { continuation.resume() }
        }
    }

    func open() {
        let waiter = state.withLock { state in
            state.open = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func waitUntilReached() async throws {
        for _ in 0..<2_000 where !state.withLock({ $0.reached }) {
            try await Task.sleep(for: .milliseconds(1))
        }
        #expect(state.withLock { $0.reached })
    }
}

/// Sessions that answer every statement, whose connect (or whose reset) waits at the gate.
private final class GatedConnector: DatabaseConnector {
    let gate: Gate
    let gatesReset: Bool
    private let made = Mutex<[GatedSession]>([])

    init(gate: Gate, gatesReset: Bool) {
        self.gate = gate
        self.gatesReset = gatesReset
    }

    var sessions: [GatedSession] { made.withLock { $0 } }

    func connect(deadline: ContinuousClock.Instant) async throws -> any DatabaseConnection {
        let session = GatedSession(gate: gatesReset ? gate : nil)
        made.withLock { $0.append(session) }
        if !gatesReset { await gate.pass() }
        return session
    }
}

private final class GatedSession: DatabaseConnection {
    let gate: Gate?
    private let state = Mutex<(statements: Int, closed: Bool)>((0, false))

    init(gate: Gate?) {
        self.gate = gate
    }

    var host: String? { "gated" }
    var port: Int? { 5432 }
    var serverProcess: ServerProcess? { nil }
    var statements: Int { state.withLock { $0.statements } }
    var isClosed: Bool { state.withLock { $0.closed } }

    func execute(
        _ sql: String, parameters: [Parameter], resultFormat: ValueFormat, deadline: ContinuousClock.Instant?
    ) async throws -> QueryResult {
        state.withLock { $0.statements += 1 }
        return QueryResult.make(columns: [], rows: [], commandTag: "SELECT 0")
    }

    var isReadyForReuse: Bool { !isClosed }
    func reportsHotStandby() async -> Bool? { false }

    func resetSession(deallocatingPreparedStatements: Bool, deadline: ContinuousClock.Instant?) async throws {
        await gate?.pass()
    }
    func close() async { state.withLock { $0.closed = true } }
}
