import PostgresTransport
import ResilientPostgres
import Synchronization
import Testing
import TestSupport

/// The connect limit and the connect jitter through the client and its pool, not only the state machine: connects
/// held open by the connector show how many are under way at once, and what queued operations do when cancelled or
/// shut down.
@Suite("Connect limit through the client", .capturingLogs)
struct ConnectLimitDriverTests {
    @Test func aBurstOpensAtMostTheLimitAtOnceAndEveryOperationSucceeds() async throws {
        let connector = HeldConnector()
        let client = PostgresClient(configuration: Self.configuration(limit: 2), connector: connector)
        let operations = (0..<4).map { _ in Task { try await client.execute("SELECT 1") } }
        try await connector.waitUntilHeld(2)
        // Were the limit not kept, the other two operations would reach the connector by now.
        try await Task.sleep(for: .milliseconds(100))
        #expect(connector.counts.held == 2)
        connector.openAll()
        for operation in operations { _ = try await operation.value }
        #expect(connector.counts.peak == 2)
        await client.shutdown()
    }

    @Test func aQueuedOperationCancelledWhileConnectsAreHeldTakesNoSlot() async throws {
        let connector = HeldConnector()
        let client = PostgresClient(configuration: Self.configuration(limit: 1), connector: connector)
        let first = Task { try await client.execute("SELECT 1") }
        try await connector.waitUntilHeld(1)
        let queued = Task { try await client.execute("SELECT 1") }
        try await Task.sleep(for: .milliseconds(50))
        queued.cancel()
        let error = await #expect(throws: PostgresError.self) { try await queued.value }
        #expect(error?.errorClass == .cancelled)
        connector.openAll()
        _ = try await first.value
        #expect(connector.counts.connects == 1)
        await client.shutdown()
    }

    @Test func shutdownFailsQueuedOperations() async throws {
        let connector = HeldConnector()
        let client = PostgresClient(configuration: Self.configuration(limit: 1), connector: connector)
        let first = Task { try await client.execute("SELECT 1") }
        try await connector.waitUntilHeld(1)
        let queued = Task { try await client.execute("SELECT 1") }
        try await Task.sleep(for: .milliseconds(50))
        let shutdown = Task { await client.shutdown() }
        let error = await #expect(throws: PostgresError.self) { try await queued.value }
        #expect(error?.reason == .permanent)
        connector.openAll()
        _ = try? await first.value
        await shutdown.value
        #expect(connector.counts.connects == 1)
    }

    @Test func aConnectHeldByTheJitterStartsWhenTheHoldEndsAndServesTheOperation() async throws {
        let connector = HeldConnector()
        connector.openAll()
        var configuration = Self.configuration(limit: 2)
        configuration.connectJitter = .milliseconds(200)
        let client = PostgresClient(configuration: configuration, connector: connector, randomSeed: 1)
        // Both operations wait for the hold; its end, set on the pool's timer, lets them connect.
        async let first = client.execute("SELECT 1")
        async let second = client.execute("SELECT 1")
        _ = try await (first, second)
        #expect(connector.counts.connects == 2)
        await client.shutdown()
    }

    @Test func anOperationCancelledDuringTheHoldEndsAtOnceWithoutConnecting() async throws {
        let connector = HeldConnector()
        connector.openAll()
        var configuration = Self.configuration(limit: 2)
        // Far longer than the test: only a cancellation ends the wait.
        configuration.connectJitter = .seconds(3_600)
        let client = PostgresClient(configuration: configuration, connector: connector, randomSeed: 1)
        let held = Task { try await client.execute("SELECT 1") }
        try await Task.sleep(for: .milliseconds(50))
        held.cancel()
        let error = await #expect(throws: PostgresError.self) { try await held.value }
        #expect(error?.errorClass == .cancelled)
        #expect(connector.counts.connects == 0)
        await client.shutdown()
    }

    static func configuration(limit: Int) -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(connection: ConnectionParameters(options: ["host": "held"]))
        configuration.logger = .quiet
        configuration.maxConnections = 4
        configuration.maxConcurrentConnects = limit
        return configuration
    }
}

/// A connector whose connects wait until `openAll()`, counting how many wait at once.
private final class HeldConnector: DatabaseConnector {
    struct Counts { var held = 0, peak = 0, connects = 0 }
    private let state = Mutex<(counts: Counts, open: Bool, waiters: [CheckedContinuation<Void, Never>])>(
        (Counts(), false, [])
    )

    var counts: Counts { state.withLock { $0.counts } }

    func connect(deadline: ContinuousClock.Instant) async throws -> any DatabaseConnection {
        await withCheckedContinuation { continuation in
            let passNow = state.withLock { state -> Bool in
                state.counts.connects += 1
                if state.open { return true }
                state.counts.held += 1
                state.counts.peak = max(state.counts.peak, state.counts.held)
                state.waiters.append(continuation)
                return false
            }
            if passNow { continuation.resume() }
        }
        return HeldSession()
    }

    func openAll() {
        let waiters = state.withLock { state in
            state.open = true
            state.counts.held = 0
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func waitUntilHeld(_ count: Int) async throws {
        for _ in 0..<2_000 where counts.held < count {
            try await Task.sleep(for: .milliseconds(1))
        }
        #expect(counts.held == count)
    }
}

private final class HeldSession: DatabaseConnection {
    private let closed = Mutex(false)
    var host: String? { "held" }
    var port: Int? { 5432 }
    var serverProcess: ServerProcess? { nil }

    func execute(
        _ sql: String, parameters: [Parameter], resultFormat: ValueFormat, deadline: ContinuousClock.Instant?
    ) async throws -> QueryResult {
        QueryResult.make(columns: [], rows: [], commandTag: "SELECT 0")
    }

    var isReadyForReuse: Bool { !closed.withLock { $0 } }
    func reportsHotStandby() async -> Bool? { false }
    func resetSession(deallocatingPreparedStatements: Bool, deadline: ContinuousClock.Instant?) async throws {}
    func close() async { closed.withLock { $0 = true } }
}
