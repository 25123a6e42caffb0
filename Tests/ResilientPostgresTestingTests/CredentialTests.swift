import ResilientPostgres
import ResilientPostgresTesting
import Synchronization
import Testing
import TestSupport

/// A credential provider's contract, on a scripted database: one fetch at a time, a credential kept until its
/// refresh margin, one refresh when the server refuses a kept one, and its failures classified like any other.
@Suite("Credential providers", .capturingLogs)
struct CredentialTests {
    /// A provider that hands out `token-1`, `token-2`, ... valid for `validFor`, and counts its calls.
    final class TokenService: Sendable {
        let calls = Counter()
        let validFor: Duration?
        let gate: Gate?

        init(validFor: Duration? = .seconds(300), gate: Gate? = nil) {
            self.validFor = validFor
            self.gate = gate
        }

        func provider(refreshMargin: Duration = .seconds(60)) -> CredentialProvider {
            CredentialProvider(refreshMargin: refreshMargin) {
                let call = self.calls.increment()
                try await self.gate?.wait()
                return Credential(password: "token-\(call)", validFor: self.validFor)
            }
        }
    }

    static func client(_ database: ScriptedDatabase, _ provider: CredentialProvider) -> PostgresClient {
        database.answer("SELECT 1", with: .value(1))
        return PostgresClient.testing(database, randomSeed: 7) { $0.credentials = provider }
    }

    static func passwords(_ database: ScriptedDatabase) -> [String?] {
        database.connects.map { $0.credential?.password }
    }

    @Test func concurrentConnectsShareOneFetch() async throws {
        let gate = Gate()
        let tokens = TokenService(gate: gate)
        let database = ScriptedDatabase()
        database.answer("SELECT 1", with: .value(1))
        // Eight connects under way at once, each waiting for the one fetch.
        let client = PostgresClient.testing(database, randomSeed: 7) {
            $0.credentials = tokens.provider()
            $0.maxConcurrentConnects = 8
        }
        let queries = (1...8).map { _ in Task { try await client.query("SELECT 1", options: .readOnly) } }
        // Every operation opens a session of its own, and each waits for the one fetch.
        try await gate.waitForWaiters(count: 1)
        _ = try await database.clock.waitForSleeps(count: 8)
        #expect(tokens.calls.count == 1)
        gate.open()
        for query in queries { _ = try await query.value }
        #expect(tokens.calls.count == 1)
        #expect(database.connects.count == 8)
        #expect(Self.passwords(database).allSatisfy { $0 == "token-1" })
        await client.shutdown()
    }

    @Test func aKeptCredentialServesNewSessionsUntilItsRefreshMargin() async throws {
        let tokens = TokenService(validFor: .seconds(300))
        let database = ScriptedDatabase()
        let client = Self.client(database, tokens.provider(refreshMargin: .seconds(60)))
        // Each query after a restart opens a new session.
        func queryOnANewSession() async throws {
            database.terminateSessions()
            _ = try await database.clock.run { try await client.query("SELECT 1", options: .readOnly) }
        }
        _ = try await client.query("SELECT 1", options: .readOnly)
        database.clock.advance(by: .seconds(200))
        try await queryOnANewSession()
        // 240 s: 300 s of validity less the margin.
        database.clock.advance(by: .seconds(39))
        try await queryOnANewSession()
        #expect(tokens.calls.count == 1)
        database.clock.advance(by: .seconds(1))
        try await queryOnANewSession()
        #expect(tokens.calls.count == 2)
        #expect(Self.passwords(database) == ["token-1", "token-1", "token-1", "token-2"])
        // Operations on an open session never ask for a credential.
        for _ in 1...5 { _ = try await client.query("SELECT 1", options: .readOnly) }
        #expect(tokens.calls.count == 2)
        await client.shutdown()
    }

    @Test func aCredentialValidForLessThanTheMarginServesOnlyItsOwnConnect() async throws {
        let tokens = TokenService(validFor: .seconds(30))
        let database = ScriptedDatabase()
        let client = Self.client(database, tokens.provider(refreshMargin: .seconds(60)))
        _ = try await client.query("SELECT 1", options: .readOnly)
        database.terminateSessions()
        _ = try await database.clock.run { try await client.query("SELECT 1", options: .readOnly) }
        #expect(Self.passwords(database) == ["token-1", "token-2"])
        await client.shutdown()
    }

    @Test func aCancelledWaiterLeavesTheFetchToTheOthers() async throws {
        let gate = Gate()
        let tokens = TokenService(gate: gate)
        let database = ScriptedDatabase()
        let client = Self.client(database, tokens.provider())
        let cancelled = Task { try await client.query("SELECT 1", options: .readOnly) }
        let waiting = Task { try await client.query("SELECT 1", options: .readOnly) }
        try await gate.waitForWaiters(count: 1)
        _ = try await database.clock.waitForSleeps(count: 2)
        cancelled.cancel()
        let error = await #expect(throws: PostgresError.self) { try await cancelled.value }
        #expect(error?.reason == .cancelled)
        #expect(gate.cancellations == 0)
        gate.open()
        _ = try await waiting.value
        #expect(tokens.calls.count == 1)
        #expect(Self.passwords(database) == ["token-1"])
        await client.shutdown()
    }

    @Test func shutdownCancelsTheFetchAndWaitsForIt() async throws {
        let gate = Gate()
        let tokens = TokenService(gate: gate)
        let database = ScriptedDatabase()
        let client = Self.client(database, tokens.provider())
        let query = Task { try await client.query("SELECT 1", options: .readOnly) }
        try await gate.waitForWaiters(count: 1)
        await client.shutdown()
        // The fetch saw its cancellation before shutdown returned.
        #expect(gate.cancellations == 1)
        let error = await #expect(throws: PostgresError.self) { try await query.value }
        #expect(error?.reason == .permanent)
        #expect(error?.lastFailure == nil)
        #expect(database.connects.isEmpty)
    }

    @Test func aProviderCallThatHangsIsGivenUpAtItsTimeoutAndTheNextConnectCallsAgain() async throws {
        let calls = Counter()
        let hold = DeafHold()
        let database = ScriptedDatabase()
        let client = Self.client(database, CredentialProvider(fetchTimeout: .seconds(5)) {
            // The first call hangs, heedless of its cancellation; the next answers.
            let call = calls.increment()
            if call == 1 { await hold.wait() }
            return Credential(password: "token-\(call)", validFor: .seconds(300))
        })
        let rows = try await database.clock.run { try await client.query("SELECT 1", options: .readOnly) }
        #expect(try rows.decode(Int.self) == [1])
        #expect(calls.count == 2)
        #expect(Self.passwords(database) == ["token-2"])
        #expect(database.clock.elapsed >= .seconds(5))
        hold.release()
        await client.shutdown()
    }

    @Test func shutdownDoesNotWaitForAProviderCallThatIgnoresItsCancellation() async throws {
        let hold = DeafHold()
        let database = ScriptedDatabase()
        let client = Self.client(database, CredentialProvider {
            await hold.wait()
            return Credential(password: "late")
        })
        let query = Task { try await client.query("SELECT 1", options: .readOnly) }
        try await hold.waitForArrival()
        await client.shutdown()
        await #expect(throws: PostgresError.self) { try await query.value }
        #expect(database.connects.isEmpty)
        hold.release()
    }

    // MARK: - Refused credentials

    @Test func aKeptCredentialRefusedOnceIsRefreshedBeforeAnythingIsReported() async throws {
        let tokens = TokenService()
        let database = ScriptedDatabase()
        let events = EventLog()
        let client = PostgresClient.testing(database, randomSeed: 7) {
            $0.credentials = tokens.provider()
            $0.onAttempt = events.record
        }
        database.answer("SELECT 1", with: .value(1))
        _ = try await client.query("SELECT 1", options: .readOnly)
        // The kept token expired early (revoked, or the clocks disagree): the server refuses it once.
        database.terminateSessions()
        database.failNextConnect(with: .authenticationFailed)
        _ = try await database.clock.run { try await client.query("SELECT 1", options: .readOnly) }
        #expect(tokens.calls.count == 2)
        #expect(Self.passwords(database) == ["token-1", "token-1", "token-2"])
        #expect(database.connects.map(\.outcome) == [.opened, .failed, .opened])
        // The refusal never reached the retry loop: no attempt failed for it.
        #expect(!events.all.contains { $0.errorClass == .permanent })
        await client.shutdown()
    }

    /// AWS IAM signs in through PAM, whose refusal is 28000, not 28P01; `pg_hba.conf` refusing the host is not the
    /// credential's fault.
    @Test(arguments: [
        (#"PAM authentication failed for user "app""#, true),
        (#"no pg_hba.conf entry for host "10.0.0.1", user "app", database "app", no encryption"#, false),
    ])
    func aKeptCredentialRefusedWith28000IsRefreshedUnlessPgHbaRefusedTheHost(
        message: String, refreshes: Bool
    ) async throws {
        let tokens = TokenService()
        let database = ScriptedDatabase()
        let client = Self.client(database, tokens.provider())
        _ = try await client.query("SELECT 1", options: .readOnly)
        database.terminateSessions()
        database.failNextConnect(with: .refused(sqlState: "28000", message: message))
        if refreshes {
            _ = try await database.clock.run { try await client.query("SELECT 1", options: .readOnly) }
            #expect(Self.passwords(database) == ["token-1", "token-1", "token-2"])
        } else {
            let error = await #expect(throws: PostgresError.self) {
                try await database.clock.run { try await client.query("SELECT 1", options: .readOnly) }
            }
            #expect(error?.errorClass == .permanent)
            #expect(tokens.calls.count == 1)
        }
        await client.shutdown()
    }

    @Test func aCredentialNeverShowsItsPassword() {
        let credential = Credential(password: "s3cret-token", user: "app", validFor: .seconds(300))
        var dumped = ""
        dump(credential, to: &dumped)
        for text in [dumped, "\(credential)", String(reflecting: credential)] {
            #expect(!text.contains("s3cret-token"), "\(text)")
        }
        #expect(dumped.contains("app"))
    }

    @Test func aFreshCredentialRefusedIsPermanent() async throws {
        let tokens = TokenService()
        let database = ScriptedDatabase()
        let client = Self.client(database, tokens.provider())
        database.failNextConnect(with: .authenticationFailed)
        let error = await #expect(throws: PostgresError.self) {
            try await client.query("SELECT 1", options: .readOnly)
        }
        #expect(error?.errorClass == .permanent)
        #expect(error?.sqlState == .invalidPassword)
        #expect(error?.attempts == 1)
        #expect(tokens.calls.count == 1)
        await client.shutdown()
    }

    @Test func aRefreshedCredentialRefusedAgainIsReportedAfterExactlyOneRefresh() async throws {
        let tokens = TokenService()
        let database = ScriptedDatabase()
        let client = Self.client(database, tokens.provider())
        _ = try await client.query("SELECT 1", options: .readOnly)
        database.terminateSessions()
        database.failConnects(with: .authenticationFailed, times: 2)
        let error = await #expect(throws: PostgresError.self) {
            try await database.clock.run { try await client.query("SELECT 1", options: .readOnly) }
        }
        #expect(error?.errorClass == .permanent)
        #expect(tokens.calls.count == 2)
        #expect(Self.passwords(database) == ["token-1", "token-1", "token-2"])
        await client.shutdown()
    }

    // MARK: - A broken provider

    struct TokenServiceDown: Error {}
    struct NotPermitted: Error {}

    @Test func aTransientProviderFailureIsRetriedWithinTheBudget() async throws {
        let calls = Counter()
        let database = ScriptedDatabase()
        let client = Self.client(database, CredentialProvider {
            // Down for the first three calls: unmarked, then marked transient.
            switch calls.increment() {
            case 1, 2: throw TokenServiceDown()
            case 3: throw CredentialError.transient(TokenServiceDown())
            default: return Credential(password: "token", validFor: .seconds(300))
            }
        })
        let rows = try await database.clock.run { try await client.query("SELECT 1", options: .readOnly) }
        #expect(try rows.decode(Int.self) == [1])
        #expect(calls.count == 4)
        #expect(Self.passwords(database) == ["token"])
        #expect(database.clock.elapsed > .zero)
        await client.shutdown()
    }

    @Test func aPermanentProviderFailureFailsAtOnceAndIsKept() async throws {
        let calls = Counter()
        let database = ScriptedDatabase()
        let client = Self.client(database, CredentialProvider {
            calls.increment()
            throw CredentialError.permanent(NotPermitted())
        })
        let error = await #expect(throws: PostgresError.self) {
            try await client.query("SELECT 1", options: .readOnly)
        }
        #expect(error?.errorClass == .permanent)
        #expect(error?.attempts == 1)
        #expect(error?.credentialError is NotPermitted)
        #expect(error?.lastFailure?.code == .credentialUnavailable)
        #expect(calls.count == 1)
        #expect(database.connects.isEmpty)
        await client.shutdown()
    }

    @Test func aProviderDownForLongerThanTheBudgetFailsWithItsError() async throws {
        let database = ScriptedDatabase()
        let client = Self.client(database, CredentialProvider { throw TokenServiceDown() })
        let error = await #expect(throws: PostgresError.self) {
            try await database.clock.run { try await client.query("SELECT 1", options: .readOnly) }
        }
        #expect(error?.errorClass == .credentialUnavailable)
        #expect(error?.reason == .budgetExhausted)
        #expect(error?.credentialError is TokenServiceDown)
        #expect(database.connects.isEmpty)
        await client.shutdown()
    }
}

/// A gate a provider waits at until the test opens it; a wait ends at once, throwing, when its task is cancelled.
final class Gate: Sendable {
    private struct State {
        var isOpen = false
        var waiters: [Int: CheckedContinuation<Void, any Error>] = [:]
        var arrivals = 0
        var cancelled: Set<Int> = []
    }

    private let state = Mutex(State())

    /// How many waits ended by cancellation.
    var cancellations: Int { state.withLock { $0.cancelled.count } }

    func wait() async throws {
        let id = state.withLock { state in
            state.arrivals += 1
            return state.arrivals
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let outcome = state.withLock { state -> Result<Void, any Error>? in
                    if state.cancelled.contains(id) { return .failure(CancellationError()) }
                    if state.isOpen { return .success(()) }
                    state.waiters[id] = continuation
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let continuation = state.withLock { state in
                state.cancelled.insert(id)
                return state.waiters.removeValue(forKey: id)
            }
            continuation?.resume(throwing: CancellationError())
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.isOpen = true
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits, in real time, until `count` waits have begun.
    func waitForWaiters(count: Int) async throws {
        let givingUp = ContinuousClock.now.advanced(by: .seconds(10))
        while state.withLock({ $0.arrivals < count }) {
            guard ContinuousClock.now < givingUp else {
                throw WaitTimeout(expected: "\(count) waits", observed: "fewer", timeout: .seconds(10))
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}

/// A provider call that hangs until the test releases it, whatever its cancellation says.
final class DeafHold: Sendable {
    private struct State {
        var isReleased = false
        var arrived = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func wait() async {
        await withCheckedContinuation { continuation in
            let released = state.withLock { state in
                state.arrived = true
                if !state.isReleased { state.waiter = continuation }
                return state.isReleased
            }
            if released { continuation.resume() }
        }
    }

    func release() {
        let waiter = state.withLock { state in
            state.isReleased = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Waits, in real time, until a call has begun to hang.
    func waitForArrival() async throws {
        let givingUp = ContinuousClock.now.advanced(by: .seconds(10))
        while !state.withLock({ $0.arrived }) {
            guard ContinuousClock.now < givingUp else {
                throw WaitTimeout(expected: "a provider call", observed: "none", timeout: .seconds(10))
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}
