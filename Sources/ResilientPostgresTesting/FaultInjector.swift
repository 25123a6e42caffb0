import ResilientPostgres

/// Faults injected into a client's real libpq sessions: fail the Nth connect or statement, or the next ones that
/// match, with a chosen fault, and carry on for real otherwise. For integration tests against a real server.
///
/// ```swift
/// let faults = FaultInjector()
/// faults.fail("INSERT INTO payments", with: .connectionLostAfterSend)
/// let client = PostgresClient.testing(configuration, injecting: faults)
/// ```
/// A fault that leaves the outcome unknown (``StatementFault/connectionLostAfterSend``,
/// ``StatementFault/immediateShutdown``, ``StatementFault/committedLocallyThenLost``) runs the statement for real
/// first and then closes the session before the answer is read: the worst case, a write applied whose answer was
/// lost. A fault that closes the session (FATAL, lost before send) closes the real session, so the server rolls back
/// any open transaction. Any other error is reported without running the statement; inside a transaction block the
/// session then behaves as a server's would (25P02 until `ROLLBACK`, `COMMIT` answering `ROLLBACK`). Delays run on
/// the real clock. A batch runs one statement at a time between `BEGIN` and `COMMIT` (not pipelined), so that each
/// of its statements meets the fault planned for it. Everything is recorded, like on a ``ScriptedDatabase``.
public final class FaultInjector: Sendable {
    let plan = FaultPlan(clock: ContinuousClock())

    /// An injector with no faults planned.
    public init() {}

    /// Fails the next `times` statements that `matcher` matches with `fault`. Rules are used in the order they were
    /// added.
    public func fail(_ matcher: StatementMatcher, with fault: StatementFault, times: Int = 1) {
        plan.fail(matcher, with: fault, times: times)
    }

    /// Fails the statement numbered `number` (from 1, counting every statement the client sends, `BEGIN`, `COMMIT`
    /// and the pool's empty liveness checks included) with `fault`.
    public func failStatement(number: Int, with fault: StatementFault) {
        plan.failStatement(number: number, with: fault)
    }

    /// Makes the next statement of every session open now meet `fault` (FATAL 57P01 by default).
    public func terminateSessions(with fault: StatementFault = .backendTerminated) {
        plan.terminateSessions(with: fault)
    }

    /// Fails the next connect with `fault`, without connecting.
    public func failNextConnect(with fault: ConnectFault = .connectionRefused) {
        plan.failConnects(with: fault, times: 1)
    }

    /// Fails the next `times` connects with `fault`, without connecting.
    public func failConnects(with fault: ConnectFault = .connectionRefused, times: Int) {
        plan.failConnects(with: fault, times: times)
    }

    /// Fails the connect numbered `number` (from 1) with `fault`.
    public func failConnect(number: Int, with fault: ConnectFault) {
        plan.failConnect(number: number, with: fault)
    }

    /// Forgets every planned fault.
    public func clearFaults() {
        plan.clearFaults()
    }

    /// Every connect so far, in order.
    public var connects: [RecordedConnect] { plan.connects }

    /// Every statement so far, in order.
    public var statements: [RecordedStatement] { plan.statements }

    /// The statements `matcher` matches, in order.
    public func statements(matching matcher: StatementMatcher) -> [RecordedStatement] {
        plan.statements.filter(matcher.matches)
    }

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

    /// Waits until at least `count` statements have been sent, and returns every statement so far.
    ///
    /// - Parameters:
    ///   - count: how many statements to wait for, at least 1.
    ///   - timeout: the real time to wait, 10 seconds by default.
    /// - Throws: ``WaitTimeout`` when fewer than `count` statements were sent within `timeout`, listing the last ones;
    ///   `CancellationError` when the waiting task is cancelled.
    @discardableResult
    public func waitForStatements(
        count: Int,
        timeout: Duration = WaitTimeout.defaultTimeout
    ) async throws -> [RecordedStatement] {
        try await plan.waitForStatements(count: count, timeout: timeout)
    }
}
