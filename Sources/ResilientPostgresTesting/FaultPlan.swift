import PostgresTransport
import ResilientPostgres
import Synchronization

/// The faults planned for connects and statements, and the record of every connect and statement: what a
/// ``ScriptedDatabase`` and a ``FaultInjector`` share.
///
/// A fault is chosen when a connect or statement begins, in this order: for a statement, a fault planned for its
/// session (``terminateSessions(with:)``), then one planned for its number, then the first rule that matches it
/// and has uses left; for a connect, one planned for its number, then the next of the planned ones, then the
/// outage's.
final class FaultPlan: Sendable {
    private struct StatementRule {
        let matcher: StatementMatcher
        let fault: StatementFault
        var remaining: Int
    }

    private struct CountWaiter {
        enum Subject { case connects, statements }
        let id: Int
        let subject: Subject
        let count: Int
        let continuation: CheckedContinuation<Void, any Error>

        func resume() { continuation.resume() }
    }

    private struct State {
        var connects: [RecordedConnect] = []
        var statements: [RecordedStatement] = []
        var numberedConnectFaults: [Int: ConnectFault] = [:]
        var nextConnectFaults: [ConnectFault] = []
        var outage: ConnectFault?
        var numberedStatementFaults: [Int: StatementFault] = [:]
        var statementRules: [StatementRule] = []
        /// Open sessions by connect number, with the fault planned for each one's next statement.
        var openSessions: [Int: StatementFault?] = [:]
        var closedSessions: [Int] = []
        var resetSessions: [Int] = []
        var waiters: [CountWaiter] = []
        var nextWaiterID = 0
    }

    private let state = Mutex(State())
    let clock: any ClientClock
    private let start: ContinuousClock.Instant
    /// Called whenever a connect or statement begins or ends, or a session is reset or closed.
    private let onActivity: @Sendable () -> Void

    init(clock: any ClientClock, onActivity: @escaping @Sendable () -> Void = {}) {
        self.clock = clock
        self.start = clock.now
        self.onActivity = onActivity
    }

    /// Time since the plan was made, on its clock.
    var time: Duration { start.duration(to: clock.now) }

    // MARK: - Planning

    func failConnect(number: Int, with fault: ConnectFault) {
        precondition(number >= 1, "connects are numbered from 1")
        state.withLock { $0.numberedConnectFaults[number] = fault }
    }

    func failConnects(with fault: ConnectFault, times: Int) {
        precondition(times >= 0, "times cannot be negative")
        state.withLock { $0.nextConnectFaults += Array(repeating: fault, count: times) }
    }

    func setOutage(_ fault: ConnectFault?) {
        state.withLock { $0.outage = fault }
    }

    func failStatement(number: Int, with fault: StatementFault) {
        precondition(number >= 1, "statements are numbered from 1")
        state.withLock { $0.numberedStatementFaults[number] = fault }
    }

    func fail(_ matcher: StatementMatcher, with fault: StatementFault, times: Int) {
        precondition(times >= 1, "a rule applies at least once")
        state.withLock { $0.statementRules.append(StatementRule(matcher: matcher, fault: fault, remaining: times)) }
    }

    func terminateSessions(with fault: StatementFault) {
        state.withLock { state in
            for number in state.openSessions.keys { state.openSessions[number] = fault }
        }
    }

    func clearFaults() {
        state.withLock { state in
            state.numberedConnectFaults.removeAll()
            state.nextConnectFaults.removeAll()
            state.outage = nil
            state.numberedStatementFaults.removeAll()
            state.statementRules.removeAll()
            for number in state.openSessions.keys { state.openSessions[number] = .some(nil) }
        }
    }

    // MARK: - Recording

    /// Records the start of a connect to `host`, signing in with `credential` if the client has a provider, and
    /// returns its number and the fault it meets.
    func beginConnect(host: String, credential: Credential? = nil) -> (number: Int, fault: ConnectFault?) {
        let (number, fault, resumed) = state.withLock { state in
            let number = state.connects.count + 1
            var fault = state.numberedConnectFaults.removeValue(forKey: number)
            if fault == nil, !state.nextConnectFaults.isEmpty { fault = state.nextConnectFaults.removeFirst() }
            if fault == nil { fault = state.outage }
            state.connects.append(
                RecordedConnect(
                    number: number, host: host, time: time, credential: credential, fault: fault, outcome: .inProgress
                )
            )
            return (number, fault, Self.satisfiedWaiters(&state))
        }
        onActivity()
        resumed.forEach { $0.resume() }
        return (number, fault)
    }

    /// Records how connect `number` ended; an opened session counts as open until ``sessionClosed(_:)``.
    func endConnect(_ number: Int, opened: Bool) {
        state.withLock { state in
            state.connects[number - 1].outcome = opened ? .opened : .failed
            if opened { state.openSessions[number] = .some(nil) }
        }
        onActivity()
    }

    func sessionClosed(_ number: Int) {
        state.withLock { state in
            if state.openSessions.removeValue(forKey: number) != nil { state.closedSessions.append(number) }
        }
        onActivity()
    }

    func sessionReset(_ number: Int) {
        state.withLock { $0.resetSessions.append(number) }
        onActivity()
    }

    /// Records that a statement was answered or failed.
    func statementEnded() {
        onActivity()
    }

    /// Records a statement arriving on session `connection`, with the fault it meets.
    func beginStatement(connection: Int, host: String?, sql: String, parameters: [Parameter]) -> RecordedStatement {
        let (statement, resumed) = state.withLock { state in
            var statement = RecordedStatement(
                number: state.statements.count + 1, connection: connection, host: host, sql: sql,
                parameters: parameters.map(BoundValue.init), time: time
            )
            if let planned = state.openSessions[connection], let planned {
                statement.fault = planned
                state.openSessions[connection] = .some(nil)
            } else if let fault = state.numberedStatementFaults.removeValue(forKey: statement.number) {
                statement.fault = fault
            } else if let index = state.statementRules.firstIndex(where: { $0.matcher.matches(statement) }) {
                statement.fault = state.statementRules[index].fault
                state.statementRules[index].remaining -= 1
                if state.statementRules[index].remaining == 0 { state.statementRules.remove(at: index) }
            }
            state.statements.append(statement)
            return (statement, Self.satisfiedWaiters(&state))
        }
        onActivity()
        resumed.forEach { $0.resume() }
        return statement
    }

    var connects: [RecordedConnect] { state.withLock { $0.connects } }
    var statements: [RecordedStatement] { state.withLock { $0.statements } }
    var openSessions: [Int] { state.withLock { $0.openSessions.keys.sorted() } }
    var closedSessions: [Int] { state.withLock { $0.closedSessions } }
    var resetSessions: [Int] { state.withLock { $0.resetSessions } }

    // MARK: - Waiting

    func waitForConnects(count: Int, timeout: Duration) async throws -> [RecordedConnect] {
        try await WaitTimeout.bounding(
            timeout, waitingFor: count == 1 ? "1 connect" : "\(count) connects",
            observe: { Self.summary(of: self.connects.map(\.description)) }
        ) {
            try await self.wait(for: .connects, count: count)
        }
        return connects
    }

    func waitForStatements(count: Int, timeout: Duration) async throws -> [RecordedStatement] {
        try await WaitTimeout.bounding(
            timeout, waitingFor: count == 1 ? "1 statement" : "\(count) statements",
            observe: { Self.summary(of: self.statements.map(\.description)) }
        ) {
            try await self.wait(for: .statements, count: count)
        }
        return statements
    }

    /// How many there were, and the last few, for a failure message: `2 so far, the last: connect #2 ...`.
    private static func summary(of records: [String]) -> String {
        guard !records.isEmpty else { return "none so far" }
        let shown = records.suffix(3)
        let last = shown.count == 1 ? "the last" : "the last \(shown.count)"
        return "\(records.count) so far, \(last): " + shown.joined(separator: "; ")
    }

    private func wait(for subject: CountWaiter.Subject, count: Int) async throws {
        let id = state.withLock { state in
            defer { state.nextWaiterID += 1 }
            return state.nextWaiterID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumed = state.withLock { state -> [CountWaiter] in
                    if Task.isCancelled {
                        continuation.resume(throwing: CancellationError())
                        return []
                    }
                    let waiter = CountWaiter(id: id, subject: subject, count: count, continuation: continuation)
                    state.waiters.append(waiter)
                    return Self.satisfiedWaiters(&state)
                }
                resumed.forEach { $0.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CountWaiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    private static func satisfiedWaiters(_ state: inout State) -> [CountWaiter] {
        let connects = state.connects.count
        let statements = state.statements.count
        let satisfied = state.waiters.filter { waiter in
            waiter.count <= (waiter.subject == .connects ? connects : statements)
        }
        state.waiters.removeAll { waiter in satisfied.contains { $0.id == waiter.id } }
        return satisfied
    }
}
