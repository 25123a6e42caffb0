import Synchronization

/// The model server's shared state: the durable effects, the primary, the sessions, the faults still to meet,
/// and what was observed for the checker.
///
/// Everything is behind one lock and changes synchronously, so every statement's effect is applied (or not) at
/// one exact point. Sessions (`ModelSession`) and the connector (`ModelConnector`) do the waiting.
final class ModelDatabase: Sendable {
    /// The hosts listed in the client's configuration, in order; the primary starts on the first.
    static let hosts = ["h1", "h2"]
    static let port = 5432
    /// Statements one operation may send at one virtual instant before it counts as spinning.
    static let burstLimit = 100

    /// One connect or statement the model saw, for the checker and the verbose trace.
    struct Event: Sendable {
        var time: Duration
        var operation: Int?
        var text: String
    }

    /// A fault an operation's statement or connect met, with when.
    struct MetFault: Sendable {
        var time: Duration
        var operation: Int
        var description: String
    }

    struct State {
        /// How many times each effect was made durable.
        var applications: [Int: Int] = [:]
        /// The commit marker table: by id, whether the row is a claim (true) or a transaction's marker (false).
        var markers: [String: Bool] = [:]
        /// Primary moves made by statements' `primarySwitch` faults.
        var switchesByFaults = 0
        var statementCursor: [Int: Int] = [:]
        var connectCursor: [Int: Int] = [:]
        /// The task of each operation, so that tasks it starts (the prober) do not take its faults.
        var operationTasks: [Int: Int] = [:]
        var nextSession = 0
        var openSessions = 0
        var maxOpenSessions = 0
        var openSessionNumbers: Set<Int> = []
        /// Connects under way now, all of them and the operations' own (the prober's aside), and the most at once.
        var connectsUnderWay = 0
        var operationConnectsUnderWay = 0
        var maxConnectsUnderWay = 0
        var maxOperationConnectsUnderWay = 0
        /// Virtual start times of every connect attempt, and whether it was the operation's own.
        var connects: [Duration] = []
        var metFaults: [MetFault] = []
        /// Evidence the model found itself (state carried across leases, a session used twice at once).
        var findings: [Finding] = []
        /// Times statements of an operation failed with an error that will never change (`EXECUTE nope`).
        var deterministicFailures: [Int: Int] = [:]
        /// Per operation, the virtual instant of its last statement and how many it sent at that instant.
        var burst: [Int: (time: Duration, count: Int)] = [:]
        /// Operations already reported as spinning.
        var spinning: Set<Int> = []
        var shutDownAt: Duration?
        /// Set once every operation ended after shutdown: from then on nothing may happen.
        var quiet = false
        var trace: [Event] = []
    }

    /// An invariant break seen by the model as it happened.
    struct Finding: Sendable {
        var invariant: Invariant
        var evidence: String
    }

    let schedule: Schedule
    let clock: SimulationClock
    let tracing: Bool
    let state = Mutex(State())

    init(schedule: Schedule, clock: SimulationClock, tracing: Bool) {
        self.schedule = schedule
        self.clock = clock
        self.tracing = tracing
    }

    /// Virtual time now.
    var now: Duration { clock.elapsed }

    /// The index in ``hosts`` of the primary now.
    func primary() -> Int {
        let now = self.now
        let scheduled = schedule.primarySwitches.count { $0 <= now }
        return (scheduled + state.withLock { $0.switchesByFaults }) % 2
    }

    /// The window of `kind`s that covers now, if any.
    func window(at time: Duration, _ kinds: Set<FaultWindow.Kind>) -> FaultWindow? {
        schedule.windows.first { kinds.contains($0.kind) && $0.contains(time) }
    }

    /// The start of the first window that terminates sessions after `time`, if any.
    func nextTermination(after time: Duration) -> Duration? {
        schedule.windows.filter { ($0.kind == .down || $0.kind == .starting) && $0.start > time }.map(\.start).min()
    }

    /// Whether a window terminated every session between `opened` (exclusive) and now.
    func terminated(since opened: Duration) -> Bool {
        let now = self.now
        return schedule.windows.contains {
            ($0.kind == .down || $0.kind == .starting) && $0.start > opened && $0.start <= now
        }
    }

    func registerTask(_ task: Int?, for operation: Int) {
        guard let task else { return }
        state.withLock { $0.operationTasks[operation] = task }
    }

    /// The operation whose own task is running, if the current task is one.
    func currentOperation() -> Int? {
        guard let operation = SimulationContext.operation else { return nil }
        let task = SimulationClock.currentTaskKey()
        return state.withLock { $0.operationTasks[operation] == task } ? operation : nil
    }

    /// The next planned fault of the operation's statements (consumed whether or not it is a fault).
    func nextStatementFault(for operation: Int?, sql: String) -> StatementFaultPlan? {
        guard let operation else { return nil }
        let plan = schedule.operations[operation].statementFaults
        return state.withLock { state in
            let cursor = state.statementCursor[operation, default: 0]
            guard cursor < plan.count else { return nil }
            state.statementCursor[operation] = cursor + 1
            if let fault = plan[cursor] {
                let statement = sql.isEmpty ? "the liveness check" : sql
                state.metFaults.append(MetFault(time: now, operation: operation, description: "\(fault) on \(statement)"))
            }
            return plan[cursor]
        }
    }

    /// Records that the operation met a session left on the old primary by a failover (25006).
    func metStaleSession(operation: Int?, sql: String) {
        guard let operation else { return }
        state.withLock { state in
            state.metFaults.append(MetFault(time: now, operation: operation, description: "25006 on \(sql) (stale session)"))
        }
    }

    /// The next planned fault of the operation's own connects.
    func nextConnectFault(for operation: Int?) -> ConnectFaultPlan? {
        guard let operation else { return nil }
        let plan = schedule.operations[operation].connectFaults
        return state.withLock { state in
            let cursor = state.connectCursor[operation, default: 0]
            guard cursor < plan.count else { return nil }
            state.connectCursor[operation] = cursor + 1
            if let fault = plan[cursor] {
                state.metFaults.append(MetFault(time: now, operation: operation, description: fault.description))
            }
            return plan[cursor]
        }
    }

    /// Moves the primary to the other host now.
    func switchPrimary() {
        state.withLock { $0.switchesByFaults += 1 }
    }

    /// Makes `effects` and commit `markers` durable, in one commit.
    func apply(_ effects: [Int], markers: [String] = []) {
        guard !effects.isEmpty || !markers.isEmpty else { return }
        state.withLock { state in
            for effect in effects { state.applications[effect, default: 0] += 1 }
            for marker in markers { state.markers[marker] = false }
        }
    }

    func markerExists(_ id: String) -> Bool {
        state.withLock { $0.markers[id] != nil }
    }

    /// Claims `id` unless a row holds it; returns whether the row is a claim (true: this one or an earlier one) or
    /// a transaction's marker (false).
    func claimMarker(_ id: String) -> Bool {
        state.withLock { state in
            let isFence = state.markers[id] ?? true
            state.markers[id] = isFence
            return isFence
        }
    }

    func isApplied(_ effect: Int) -> Bool {
        state.withLock { $0.applications[effect, default: 0] > 0 }
    }

    /// Records a connect attempt, made for `ownOperation` or for no operation (the prober), until
    /// ``connectEnded(ownOperation:)``; notes one made after shutdown.
    func connectBegan(operation: Int?, ownOperation: Int?) {
        clock.tick()
        let now = self.now
        state.withLock { state in
            state.connects.append(now)
            state.connectsUnderWay += 1
            state.maxConnectsUnderWay = max(state.maxConnectsUnderWay, state.connectsUnderWay)
            if ownOperation != nil {
                state.operationConnectsUnderWay += 1
                state.maxOperationConnectsUnderWay = max(
                    state.maxOperationConnectsUnderWay, state.operationConnectsUnderWay
                )
            }
            if let shutDownAt = state.shutDownAt {
                state.findings.append(Finding(
                    invariant: .nothingAfterShutdown,
                    evidence: "a connect began at \(now.simulated), after shutdown returned at \(shutDownAt.simulated)"
                        + (operation.map { " (op \($0))" } ?? " (no operation: a background task)")
                ))
            }
        }
        record(operation, "connect")
    }

    /// A connect attempt ended, whether it opened a session or failed.
    func connectEnded(ownOperation: Int?) {
        state.withLock { state in
            state.connectsUnderWay -= 1
            if ownOperation != nil { state.operationConnectsUnderWay -= 1 }
        }
    }

    /// Numbers a newly opened session and counts it open.
    func sessionOpened() -> Int {
        state.withLock { state in
            let number = state.nextSession
            state.nextSession += 1
            state.openSessions += 1
            state.openSessionNumbers.insert(number)
            state.maxOpenSessions = max(state.maxOpenSessions, state.openSessions)
            return number
        }
    }

    func sessionClosed(_ number: Int) {
        state.withLock { state in
            if state.openSessionNumbers.remove(number) != nil { state.openSessions -= 1 }
        }
        clock.tick()
    }

    /// Records a statement about to run; notes activity once everything should be quiet.
    func statementBegan(_ sql: String, operation: Int?, session: Int) {
        clock.tick()
        let now = self.now
        let spinning = state.withLock { state -> Int? in
            guard let operation else { return nil }
            var burst = state.burst[operation] ?? (now, 0)
            burst = burst.time == now ? (now, burst.count + 1) : (now, 1)
            state.burst[operation] = burst
            guard burst.count == Self.burstLimit, state.spinning.insert(operation).inserted else { return nil }
            return operation
        }
        if let spinning {
            report(.noFutileRetries, "op \(spinning) sent \(Self.burstLimit) statements at \(now.simulated) without "
                + "virtual time moving (a retry loop with no wait); the last was \(sql.debugDescription)")
        }
        if state.withLock({ $0.quiet }) {
            report(.nothingAfterShutdown, "statement \(sql.debugDescription) ran on session s\(session) after shutdown, "
                + "once every operation had ended")
        }
        record(operation, "s\(session): \(sql.isEmpty ? "<liveness check>" : sql)")
    }

    func noteDeterministicFailure(operation: Int?) {
        guard let operation else { return }
        state.withLock { $0.deterministicFailures[operation, default: 0] += 1 }
    }

    func report(_ invariant: Invariant, _ evidence: String) {
        state.withLock { $0.findings.append(Finding(invariant: invariant, evidence: evidence)) }
    }

    func record(_ operation: Int?, _ text: @autoclosure () -> String) {
        guard tracing else { return }
        let event = Event(time: now, operation: operation, text: text())
        state.withLock { $0.trace.append(event) }
    }
}
