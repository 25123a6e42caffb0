import PostgresTransport
import ResilientPostgres
import Synchronization

/// A real session whose statements meet the faults the plan chooses for them, and otherwise run for real.
final class FaultInjectingSession: DatabaseConnection {
    private struct State {
        var isBroken = false
        /// An injected error failed the real session's open transaction block, which the server does not know.
        var blockFailed = false
        var inHotStandby: Bool
    }

    let real: any DatabaseConnection
    let number: Int
    let plan: FaultPlan
    private let state: Mutex<State>

    init(real: any DatabaseConnection, number: Int, plan: FaultPlan, onStandby: Bool) {
        self.real = real
        self.number = number
        self.plan = plan
        self.state = Mutex(State(inHotStandby: onStandby))
    }

    var host: String? { real.host }
    var port: Int? { real.port }
    var serverProcess: ServerProcess? { real.serverProcess }

    func execute(
        _ sql: String,
        parameters: [Parameter],
        resultFormat: ValueFormat,
        deadline: ContinuousClock.Instant?
    ) async throws -> QueryResult {
        try await run(sql, parameters: parameters, resultFormat: resultFormat, deadline: deadline) {
            try await self.real.execute(sql, parameters: parameters, resultFormat: resultFormat, deadline: deadline)
        }
    }

    /// Runs the statement as the real session's cached named statement, unless its planned fault says otherwise.
    func executePrepared(
        _ sql: String,
        parameters: [Parameter],
        resultFormat: ValueFormat,
        deadline: ContinuousClock.Instant?
    ) async throws -> QueryResult {
        // A planned fault met by a cached statement is that statement's, as the real session would report it.
        try await TransportError.asCachedStatement {
            try await run(sql, parameters: parameters, resultFormat: resultFormat, deadline: deadline) {
                try await self.real.executePrepared(
                    sql, parameters: parameters, resultFormat: resultFormat, deadline: deadline
                )
            }
        }
    }

    // A batch runs through the protocol's default, one statement at a time between `BEGIN` and `COMMIT`, so that
    // each of its statements meets the fault planned for it.

    /// Runs `statement` and `COMMIT` as the real session does, in one pipelined round trip, once each met its
    /// planned fault: a fault of the statement stops it there, before anything is sent; a `COMMIT` whose fault
    /// leaves the outcome unknown has the real pipeline run first, then its answer lost.
    func executeThenCommit(_ statement: BatchStatement, deadline: ContinuousClock.Instant?) async throws {
        do {
            // The statement goes with the COMMIT: it is sent for real with it, below.
            _ = try await run(statement.sql, parameters: statement.parameters, resultFormat: .text, deadline: deadline) {
                QueryResult.make(columns: [], rows: [], commandTag: "INSERT 0 1")
            }
        } catch var error as TransportError {
            if error.sqlState == .inFailedSQLTransaction {
                // The block had failed before: the real pipeline reports its COMMIT's ROLLBACK.
                throw TransportError(
                    code: .commitRolledBack,
                    message: "COMMIT answered ROLLBACK: the transaction had failed, and nothing of it was committed",
                    host: host, port: port, phase: .sent, isConnectionUsable: error.isConnectionUsable
                )
            }
            // Queued together: once the statement was sent, so was the COMMIT.
            if error.phase == .sent, !error.isConnectionUsable { error.phase = .commitInFlight }
            throw error
        }
        _ = try await run("COMMIT", parameters: [], resultFormat: .text, deadline: deadline) {
            try await self.real.executeThenCommit(statement, deadline: deadline)
            return QueryResult.make(columns: [], rows: [], commandTag: "COMMIT")
        }
    }

    /// Records the statement and meets its planned fault; otherwise runs it for real with `runForReal`.
    func run(
        _ sql: String,
        parameters: [Parameter],
        resultFormat: ValueFormat,
        deadline: ContinuousClock.Instant?,
        runForReal: () async throws -> QueryResult
    ) async throws -> QueryResult {
        if state.withLock({ $0.isBroken }) {
            // The injected fault closed the real session: libpq sends nothing on it.
            throw TransportError(code: .connectionLost, message: "no connection to the server",
                                 host: host, port: port, phase: .notSent, isConnectionUsable: false)
        }
        let statement = plan.beginStatement(connection: number, host: host, sql: sql, parameters: parameters)
        let keyword = SQLKeyword.first(of: sql)
        let (blockFailed, onStandby) = state.withLock { ($0.blockFailed, $0.inHotStandby) }
        if blockFailed {
            return try await answerFailedBlock(sql, keyword: keyword, resultFormat: resultFormat, deadline: deadline)
        }
        guard let fault = statement.fault else {
            if onStandby, !SQLKeyword.runsOnStandby(sql) {
                throw await failed(StatementFault.readOnlyError(for: sql, host: host, port: port), sql: sql)
            }
            return try await runForReal()
        }
        switch fault.kind {
        case .hang, .slow:
            let duration: Duration? = if case .slow(let duration) = fault.kind { duration } else { nil }
            switch await FaultWait.wait(duration, deadline: deadline, on: ContinuousClock()) {
            case .elapsed: return try await runForReal()
            case .deadline:
                let error = StatementFault.cancelledError(for: sql, byDeadline: true, host: host, port: port)
                throw await failed(error, sql: sql)
            case .cancelled:
                let error = StatementFault.cancelledError(for: sql, byDeadline: false, host: host, port: port)
                throw await failed(error, sql: sql)
            }
        default:
            if fault.leavesOutcomeUnknown {
                // The worst case: the server ran it, and the answer never arrived.
                _ = try? await runForReal()
            }
            if case .readOnlyHost = fault.kind { state.withLock { $0.inHotStandby = true } }
            throw await failed(fault.transportError(for: sql, host: host, port: port)!, sql: sql)
        }
    }

    var isReadyForReuse: Bool {
        guard state.withLock({ !$0.isBroken && !$0.blockFailed }) else { return false }
        return real.isReadyForReuse
    }

    func reportsHotStandby() async -> Bool? {
        if state.withLock({ $0.inHotStandby }) { return true }
        return await real.reportsHotStandby()
    }

    func resetSession(deallocatingPreparedStatements: Bool, deadline: ContinuousClock.Instant?) async throws {
        if state.withLock({ $0.isBroken }) {
            throw TransportError(code: .connectionLost, message: "no connection to the server",
                                 host: host, port: port, phase: .notSent, isConnectionUsable: false)
        }
        try await real.resetSession(deallocatingPreparedStatements: deallocatingPreparedStatements, deadline: deadline)
        plan.sessionReset(number)
    }

    func close() async {
        await real.close()
        plan.sessionClosed(number)
    }

    // MARK: - Internals

    /// Applies an injected error to the real session, as the server would have: a lost or terminated session is
    /// closed (the server rolls back), an error inside a transaction block fails the block.
    private func failed(_ error: TransportError, sql: String) async -> TransportError {
        if !error.isConnectionUsable {
            state.withLock { $0.isBroken = true }
            await real.close()
            plan.sessionClosed(number)
        } else if error.phase != .notSent, await isInTransactionBlock() {
            if StatementText.isCommit(sql) {
                // A COMMIT that fails ends the block: the server rolls it back.
                _ = try? await real.execute("ROLLBACK", parameters: [], resultFormat: .text, deadline: nil)
            } else {
                state.withLock { $0.blockFailed = true }
            }
        }
        return error
    }

    /// A statement in a block that an injected error failed: the server's answers to it.
    private func answerFailedBlock(
        _ sql: String, keyword: String, resultFormat: ValueFormat, deadline: ContinuousClock.Instant?
    ) async throws -> QueryResult {
        switch keyword {
        case "ROLLBACK", "ABORT":
            state.withLock { $0.blockFailed = false }
            return try await real.execute(sql, parameters: [], resultFormat: resultFormat, deadline: deadline)
        case "COMMIT", "END":
            state.withLock { $0.blockFailed = false }
            _ = try await real.execute("ROLLBACK", parameters: [], resultFormat: .text, deadline: deadline)
            throw TransportError(
                code: .commitRolledBack,
                message: "COMMIT answered ROLLBACK: the transaction had failed, and nothing of it was committed",
                host: host, port: port, phase: .sent, isConnectionUsable: true
            )
        default:
            throw StatementFault.sqlState(
                "25P02", message: "current transaction is aborted, commands ignored until end of transaction block"
            ).transportError(for: sql, host: host, port: port)!
        }
    }

    private func isInTransactionBlock() async -> Bool {
        guard let connection = real as? LibPQConnection else { return false }
        return await connection.transactionStatus == .inTransaction
    }
}
