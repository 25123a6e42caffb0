import PostgresTransport
import ResilientPostgres
import Synchronization

/// One session of a ``ScriptedDatabase``: answers from the script, faults from the plan, and the transaction state
/// a server would keep.
final class ScriptedSession: DatabaseConnection {
    enum TransactionState { case idle, inBlock, failed }

    struct State {
        var isClosed = false
        var isBroken = false
        var isRunning = false
        var transaction = TransactionState.idle
        var inHotStandby: Bool
    }

    let database: ScriptedDatabase
    /// The number of the connect that opened the session.
    let number: Int
    let host: String?
    let port: Int?
    /// A scripted session has no server process.
    var serverProcess: ServerProcess? { nil }
    let state: Mutex<State>
    /// The statement being streamed (rows or COPY data), if any.
    let stream = Mutex<ScriptedStream?>(nil)

    init(database: ScriptedDatabase, number: Int, host: String, onStandby: Bool) {
        self.database = database
        self.number = number
        self.host = host
        self.port = database.port
        self.state = Mutex(State(inHotStandby: onStandby))
    }

    func execute(
        _ sql: String,
        parameters: [Parameter],
        resultFormat: ValueFormat,
        deadline: ContinuousClock.Instant?
    ) async throws -> QueryResult {
        try begin()
        defer {
            state.withLock { $0.isRunning = false }
            database.plan.statementEnded()
        }
        // From here the statement has reached the database: it is recorded, and meets its fault if it has one.
        let statement = database.plan.beginStatement(connection: number, host: host, sql: sql, parameters: parameters)
        do {
            if let fault = statement.fault {
                try await meet(fault, statement, deadline: deadline)
            }
            return try await answer(statement, deadline: deadline)
        } catch let error as TransportError {
            settle(after: error, sql: sql)
            throw error
        }
    }

    /// Runs the statement as a plain one, as the session's cached named statement: its failures say so, as a real
    /// session's do (a scripted 26000 or stale cached plan is then the cache's, prepared again and retried).
    func executePrepared(
        _ sql: String,
        parameters: [Parameter],
        resultFormat: ValueFormat,
        deadline: ContinuousClock.Instant?
    ) async throws -> QueryResult {
        try await TransportError.asCachedStatement {
            try await execute(sql, parameters: parameters, resultFormat: resultFormat, deadline: deadline)
        }
    }

    var isReadyForReuse: Bool {
        state.withLock { !$0.isClosed && !$0.isBroken && !$0.isRunning && $0.transaction == .idle }
    }

    func reportsHotStandby() async -> Bool? {
        state.withLock { $0.inHotStandby }
    }

    func resetSession(deallocatingPreparedStatements: Bool, deadline: ContinuousClock.Instant?) async throws {
        try begin()
        state.withLock { $0.isRunning = false }
        database.plan.sessionReset(number)
    }

    func close() async {
        let wasOpen = state.withLock { state in
            defer { state.isClosed = true }
            return !state.isClosed
        }
        if wasOpen { database.plan.sessionClosed(number) }
    }

    // MARK: - Internals

    /// Checks the session can send a statement, as libpq would before sending anything.
    func begin() throws {
        try state.withLock { state in
            if state.isClosed {
                throw TransportError(code: .connectionClosed, message: "the connection is closed",
                                     host: host, port: port, phase: .notSent, isConnectionUsable: false)
            }
            if state.isBroken {
                throw TransportError(code: .connectionLost, message: "no connection to the server",
                                     host: host, port: port, phase: .notSent, isConnectionUsable: false)
            }
            if state.isRunning {
                throw TransportError(code: .connectionBusy, message: "another statement is running on this connection",
                                     host: host, port: port, phase: .notSent, isConnectionUsable: true)
            }
            if Task.isCancelled {
                throw TransportError(code: .cancelled, message: "cancelled before the statement was sent",
                                     host: host, port: port, phase: .notSent, isConnectionUsable: true)
            }
            state.isRunning = true
        }
    }

    /// Throws the fault's error, or waits out a delay (after which the statement is answered as scripted).
    func meet(
        _ fault: StatementFault,
        _ statement: RecordedStatement,
        deadline: ContinuousClock.Instant?
    ) async throws {
        switch fault.kind {
        case .hang, .slow:
            let duration: Duration? = if case .slow(let duration) = fault.kind { duration } else { nil }
            switch await FaultWait.wait(duration, deadline: deadline, on: database.clock) {
            case .elapsed: return
            case .deadline:
                throw StatementFault.cancelledError(for: statement.sql, byDeadline: true, host: host, port: port)
            case .cancelled:
                throw StatementFault.cancelledError(for: statement.sql, byDeadline: false, host: host, port: port)
            }
        default:
            if case .readOnlyHost = fault.kind { state.withLock { $0.inHotStandby = true } }
            throw fault.transportError(for: statement.sql, host: host, port: port)!
        }
    }

    func answer(
        _ statement: RecordedStatement,
        deadline: ContinuousClock.Instant?
    ) async throws -> QueryResult {
        let sql = statement.sql
        let keyword = SQLKeyword.first(of: sql)
        let (transaction, onStandby) = state.withLock { ($0.transaction, $0.inHotStandby) }
        if transaction == .failed, !["ROLLBACK", "ABORT", "COMMIT", "END"].contains(keyword) {
            throw serverError(
                "25P02", "current transaction is aborted, commands ignored until end of transaction block", sql
            )
        }
        if onStandby, !SQLKeyword.runsOnStandby(sql) {
            throw StatementFault.readOnlyError(for: sql, host: host, port: port)
        }
        if let answer = database.scriptedAnswer(to: statement) {
            switch answer.content {
            case .result(let columns, let rows, let commandTag):
                settle(afterSuccessOf: keyword)
                return QueryResult.make(columns: columns, rows: rows, commandTag: commandTag)
            case .fault(let fault):
                try await meet(fault, statement, deadline: deadline)
                // A delay answered: the statement goes on to the built-in answers.
            case .invalid(let reason):
                throw serverError("XX000", "invalid scripted answer: \(reason)", sql)
            }
        }
        return try builtInAnswer(statement, keyword: keyword)
    }

    private func builtInAnswer(_ statement: RecordedStatement, keyword: String) throws -> QueryResult {
        let tag: String
        switch keyword {
        case "BEGIN", "START": tag = "BEGIN"
        case "COMMIT", "END":
            let failed = state.withLock { $0.transaction == .failed }
            if failed {
                state.withLock { $0.transaction = .idle }
                throw TransportError(
                    code: .commitRolledBack,
                    message: "COMMIT answered ROLLBACK: the transaction had failed, and nothing of it was committed",
                    host: host, port: port, phase: .sent, isConnectionUsable: true
                )
            }
            tag = "COMMIT"
        case "ROLLBACK", "ABORT": tag = "ROLLBACK"
        case "SET", "RESET", "DISCARD": tag = keyword
        case "": tag = ""
        default:
            database.recordUnscripted(statement)
            throw serverError("XX000", "no scripted answer for this statement", statement.sql)
        }
        settle(afterSuccessOf: keyword)
        return QueryResult.make(columns: [], rows: [], commandTag: tag)
    }

    func serverError(_ sqlState: SQLState, _ message: String, _ sql: String) -> TransportError {
        StatementFault.sqlState(sqlState, message: message).transportError(for: sql, host: host, port: port)!
    }

    /// The transaction state after a statement succeeded.
    private func settle(afterSuccessOf keyword: String) {
        state.withLock { state in
            switch keyword {
            case "BEGIN", "START": state.transaction = .inBlock
            case "COMMIT", "END", "ROLLBACK", "ABORT": state.transaction = .idle
            default: break
            }
        }
    }

    /// The session's state after a failure: broken when the connection is gone; a block failed by an error; a
    /// transaction ended by a failed `COMMIT` or `ROLLBACK`.
    func settle(after error: TransportError, sql: String) {
        state.withLock { state in
            if !error.isConnectionUsable {
                state.isBroken = true
                state.transaction = .idle
                return
            }
            guard error.phase != .notSent else { return }
            switch SQLKeyword.first(of: sql) {
            case "COMMIT", "END", "ROLLBACK", "ABORT": state.transaction = .idle
            default: if state.transaction == .inBlock { state.transaction = .failed }
            }
        }
    }
}
