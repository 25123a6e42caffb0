import ResilientPostgres
import Synchronization

/// A database made of a script: it answers statements as told, fails connects and statements as told, and records
/// everything, on a ``ManualClock``. Tests of code that uses a `PostgresClient` run against it without a server,
/// in milliseconds, and take the same path every time.
///
/// ```swift
/// let database = ScriptedDatabase()
/// database.answer("INSERT INTO payments", with: .inserted(1))
/// database.fail("INSERT INTO payments", with: .connectionLostAfterSend)   // the first one only
/// let client = PostgresClient.testing(database)
/// ```
///
/// A statement is answered by, in order: a fault planned for it (``fail(_:with:times:)``,
/// ``failStatement(number:with:)``, ``terminateSessions(with:)``); a write on a session that landed on a standby
/// (25006); the built-in answers to what a listener sends (`LISTEN`, its probe's `pg_notify`; see
/// ``notify(_:payload:backendPID:)``), unless a rule for its exact SQL (``StatementMatcher/sql(_:)``) replaces them;
/// the latest ``answer(_:with:)`` rule that matches; the built-in answers to `BEGIN`, `COMMIT`, `ROLLBACK`, `SET`
/// and the pool's empty liveness check. Anything else fails with SQLSTATE XX000 and is listed in
/// ``unscriptedStatements``, so a missing rule shows. Sessions keep their transaction state as a server does: after
/// an error inside a block, statements fail with 25P02 until `ROLLBACK`, and `COMMIT` answers `ROLLBACK`. A batch
/// arrives as its statements one at a time, between `BEGIN` and `COMMIT` (outside a block), and a prepared
/// statement as a plain one.
public final class ScriptedDatabase: Sendable {
    private struct AnswerRule {
        let matcher: StatementMatcher
        let respond: @Sendable (RecordedStatement) -> ScriptedAnswer
    }

    private struct State {
        var host: String
        var answers: [AnswerRule] = []
        var unscripted: [RecordedStatement] = []
    }

    /// The clock the database shares with every client made for it by
    /// `PostgresClient.testing(_:randomSeed:configure:)`.
    public let clock: ManualClock
    /// The port sessions report.
    public let port: Int
    let plan: FaultPlan
    /// Who listens on what, and what they have yet to receive.
    let notifications = NotificationHub()
    let streams = ScriptedStreams()
    private let state: Mutex<State>

    /// A database on `host`, with nothing scripted yet, and its own clock.
    public init(host: String = "db.test", port: Int = 5432, clock: ManualClock = ManualClock()) {
        self.clock = clock
        self.port = port
        self.plan = FaultPlan(clock: clock, onActivity: { clock.noteActivity() })
        self.state = Mutex(State(host: host))
    }

    /// The host new sessions open on. Change it to follow a failover to another host.
    public var host: String {
        get { state.withLock { $0.host } }
        set { state.withLock { $0.host = newValue } }
    }

    // MARK: - Answers

    /// Answers every statement `matcher` matches with `answer`. A later rule that matches the same statement wins.
    public func answer(_ matcher: StatementMatcher, with answer: ScriptedAnswer) {
        self.answer(matcher) { _ in answer }
    }

    /// Answers every statement `matcher` matches with what `respond` returns for it: for answers that depend on the
    /// parameters, or on earlier statements. A later rule that matches the same statement wins.
    public func answer(
        _ matcher: StatementMatcher,
        _ respond: @escaping @Sendable (RecordedStatement) -> ScriptedAnswer
    ) {
        state.withLock { $0.answers.append(AnswerRule(matcher: matcher, respond: respond)) }
    }

    // MARK: - Faults

    /// Fails the next `times` statements that `matcher` matches with `fault`; later ones are answered as scripted.
    /// Rules are used in the order they were added.
    public func fail(_ matcher: StatementMatcher, with fault: StatementFault, times: Int = 1) {
        plan.fail(matcher, with: fault, times: times)
    }

    /// Fails the statement numbered `number` (from 1, counting every statement the database receives, `BEGIN` and
    /// `COMMIT` included) with `fault`.
    public func failStatement(number: Int, with fault: StatementFault) {
        plan.failStatement(number: number, with: fault)
    }

    /// Makes the next statement of every session open now meet `fault`, as when a server restart terminates every
    /// session (the default, FATAL 57P01) or a crash drops them.
    public func terminateSessions(with fault: StatementFault = .backendTerminated) {
        plan.terminateSessions(with: fault)
        loseListeners(with: fault, restarting: false)
    }

    /// Fails the next connect with `fault`.
    public func failNextConnect(with fault: ConnectFault = .connectionRefused) {
        plan.failConnects(with: fault, times: 1)
    }

    /// Fails the next `times` connects with `fault`.
    public func failConnects(with fault: ConnectFault = .connectionRefused, times: Int) {
        plan.failConnects(with: fault, times: times)
    }

    /// Fails the connect numbered `number` (from 1) with `fault`.
    public func failConnect(number: Int, with fault: ConnectFault) {
        plan.failConnect(number: number, with: fault)
    }

    /// The database goes away: every open session's next statement meets `sessionFault` (FATAL 57P01 by default,
    /// as in a fast shutdown), and every connect fails with `connectFault` until ``endOutage()``.
    public func beginOutage(
        _ connectFault: ConnectFault = .connectionRefused,
        sessionFault: StatementFault = .backendTerminated
    ) {
        plan.setOutage(connectFault)
        plan.terminateSessions(with: sessionFault)
        loseListeners(with: sessionFault, restarting: true)
    }

    /// The database is back: connects succeed again (unless other connect faults are planned).
    public func endOutage() {
        plan.setOutage(nil)
    }

    /// Forgets every planned fault, and the outage; answers stay.
    public func clearFaults() {
        plan.clearFaults()
    }

    // MARK: - Records

    /// Every connect so far, in order.
    public var connects: [RecordedConnect] { plan.connects }

    /// Every statement so far, in order.
    public var statements: [RecordedStatement] { plan.statements }

    /// The statements `matcher` matches, in order.
    public func statements(matching matcher: StatementMatcher) -> [RecordedStatement] {
        plan.statements.filter(matcher.matches)
    }

    /// The statements no rule answered, which failed with XX000.
    public var unscriptedStatements: [RecordedStatement] { state.withLock { $0.unscripted } }

    /// The numbers of the connects whose sessions are open now.
    public var openSessions: [Int] { plan.openSessions }

    /// The numbers of the connects whose sessions were closed, in the order they closed.
    public var closedSessions: [Int] { plan.closedSessions }

    /// The numbers of the connects whose sessions were reset after app code used them (by `withConnection` or
    /// `transaction`), once per reset, in order: what the app left on a session (settings, locks, temporary
    /// tables) is undone before the pool lends it again.
    public var resetSessions: [Int] { plan.resetSessions }

    /// Waits until at least `count` connects have begun, and returns every connect so far.
    ///
    /// - Parameters:
    ///   - count: how many connects to wait for, at least 1.
    ///   - timeout: the real time to wait, 10 seconds by default.
    /// - Throws: ``WaitTimeout`` when fewer than `count` connects began within `timeout`, listing the last ones;
    ///   `CancellationError` when the waiting task is cancelled.
    @discardableResult
    public func waitForConnects(
        count: Int,
        timeout: Duration = WaitTimeout.defaultTimeout
    ) async throws -> [RecordedConnect] {
        try await plan.waitForConnects(count: count, timeout: timeout)
    }

    /// Waits until at least `count` statements have arrived, and returns every statement so far.
    ///
    /// - Parameters:
    ///   - count: how many statements to wait for, at least 1.
    ///   - timeout: the real time to wait, 10 seconds by default.
    /// - Throws: ``WaitTimeout`` when fewer than `count` statements arrived within `timeout`, listing the last ones;
    ///   `CancellationError` when the waiting task is cancelled.
    @discardableResult
    public func waitForStatements(
        count: Int,
        timeout: Duration = WaitTimeout.defaultTimeout
    ) async throws -> [RecordedStatement] {
        try await plan.waitForStatements(count: count, timeout: timeout)
    }

    // MARK: - For sessions

    /// The scripted answer to `statement`, or nil when no rule matches: the latest matching rule, but for what a
    /// listener sends, only an exact one ahead of the built-in answer.
    func scriptedAnswer(to statement: RecordedStatement) -> ScriptedAnswer? {
        let rule = state.withLock { $0.answers.last { $0.matcher.matches(statement) } }
        if let rule, rule.matcher.exactSQL != nil { return rule.respond(statement) }
        return listenerAnswer(to: statement) ?? rule?.respond(statement)
    }

    func recordUnscripted(_ statement: RecordedStatement) {
        state.withLock { $0.unscripted.append(statement) }
    }
}
