import PostgresTransport
import ResilientPostgres
import ResilientPostgresTesting
import Synchronization

/// One session of the model server, implementing the client's connection seam.
///
/// It runs the statement language of ``ModelStatement`` against ``ModelDatabase``, keeps the state a server keeps
/// for a session (open transaction and its buffered inserts, settings, advisory locks), and meets the faults the
/// schedule plans for the statement's operation at the exact point each one names: before the statement reached
/// the server, after it was applied but before the answer, and so on. Failures are the `TransportError` values
/// libpq would report, made by `StatementFault`'s own mapping.
final class ModelSession: DatabaseConnection {
    fileprivate enum Transaction { case idle, inBlock, failed }

    fileprivate struct State {
        var isClosed = false
        var isBroken = false
        var isRunning = false
        var transaction = Transaction.idle
        var transactionOwner: Int?
        var buffered: [Int] = []
        /// The commit markers the open transaction wrote, committed with it.
        var bufferedMarkers: [String] = []
        var settingOwner: Int?
        var lockOwner: Int?
        var reportedCrossings: Set<Int> = []
    }

    /// How a wait inside a statement ended.
    private enum WaitEnding { case elapsed, deadline, cancelled, terminated }

    let database: ModelDatabase
    let number: Int
    let hostIndex: Int
    let openedAt: Duration
    let host: String?
    /// A model session has no server process of its own.
    var serverProcess: ServerProcess? { nil }
    let port: Int? = ModelDatabase.port
    private let state = Mutex(State())

    init(database: ModelDatabase, number: Int, hostIndex: Int) {
        self.database = database
        self.number = number
        self.hostIndex = hostIndex
        self.openedAt = database.now
        self.host = ModelDatabase.hosts[hostIndex]
    }

    func execute(
        _ sql: String,
        parameters: [Parameter],
        resultFormat: ValueFormat,
        deadline: ContinuousClock.Instant?
    ) async throws -> QueryResult {
        let operation = SimulationContext.operation
        // A round trip gives the thread up, as a real one does: a retry loop that never waits cannot then hold a
        // thread of the cooperative pool for ever and starve everything else.
        await Task.yield()
        try begin(sql)
        defer { state.withLock { $0.isRunning = false } }
        database.statementBegan(sql, operation: operation, session: number)
        let statement = ModelStatement(sql, parameters: parameters)
        checkCarriedState(statement, sql: sql, operation: operation)
        let fault = database.nextStatementFault(for: database.currentOperation(), sql: sql)
        do {
            return try await run(statement, sql: sql, fault: fault, deadline: deadline, operation: operation)
        } catch let error as TransportError {
            settle(after: error, statement: statement)
            database.record(operation, "s\(number): failed \(error)")
            throw error
        }
    }

    var isReadyForReuse: Bool {
        state.withLock { !$0.isClosed && !$0.isBroken && !$0.isRunning && $0.transaction == .idle }
    }

    func reportsHotStandby() async -> Bool? {
        database.primary() != hostIndex
    }

    /// Undoes settings and advisory locks, as `RESET ALL; SELECT pg_advisory_unlock_all(); ...` does: a round trip
    /// that meets the database's faults (a terminated session, a black hole), not the operation's planned ones.
    func resetSession(deallocatingPreparedStatements: Bool, deadline: ContinuousClock.Instant?) async throws {
        let sql = "RESET ALL"
        await Task.yield()
        try begin(sql)
        defer { state.withLock { $0.isRunning = false } }
        database.statementBegan("<session reset>", operation: SimulationContext.operation, session: number)
        do {
            if database.terminated(since: openedAt) {
                throw StatementFault.backendTerminated.transportError(for: sql, host: host, port: port)!
            }
            if let blackHole = database.window(at: database.now, [.blackHole]) {
                try await delay(until: database.clock.start.advanced(by: blackHole.end), sql: sql, deadline: deadline)
            }
        } catch let error as TransportError {
            settle(after: error, statement: .reset)
            throw error
        }
        state.withLock { state in
            state.settingOwner = nil
            state.lockOwner = nil
        }
    }

    func close() async {
        let wasOpen = state.withLock { state in
            defer {
                state.isClosed = true
                state.buffered = []
                state.transaction = .idle
            }
            return !state.isClosed
        }
        if wasOpen {
            database.sessionClosed(number)
            database.record(SimulationContext.operation, "s\(number): closed")
        }
    }

    // MARK: - Running a statement

    private func run(
        _ statement: ModelStatement,
        sql: String,
        fault: StatementFaultPlan?,
        deadline: ContinuousClock.Instant?,
        operation: Int?
    ) async throws -> QueryResult {
        if fault == .lostBeforeSend {
            throw StatementFault.connectionLostBeforeSend.transportError(for: sql, host: host, port: port)!
        }
        if database.terminated(since: openedAt) {
            // The server went down (fast shutdown) since the session opened: the next statement meets the FATAL.
            throw StatementFault.backendTerminated.transportError(for: sql, host: host, port: port)!
        }
        if let blackHole = database.window(at: database.now, [.blackHole]) {
            switch await wait(until: database.clock.start.advanced(by: blackHole.end), deadline: deadline) {
            case .elapsed: break
            case .deadline: throw StatementFault.cancelledError(for: sql, byDeadline: true, host: host, port: port)
            case .cancelled: throw StatementFault.cancelledError(for: sql, byDeadline: false, host: host, port: port)
            case .terminated: throw StatementFault.backendTerminated.transportError(for: sql, host: host, port: port)!
            }
        }
        switch fault {
        case .primarySwitch:
            database.switchPrimary()
        case .slow(let duration):
            try await delay(until: database.clock.now.advanced(by: duration), sql: sql, deadline: deadline)
        case .hang:
            try await delay(until: nil, sql: sql, deadline: deadline)
        default:
            break
        }
        let standby = database.primary() != hostIndex
        switch fault {
        case .lostAfterSend(let applied, let after), .immediateShutdown(let applied, let after):
            if applied { _ = try? perform(statement, sql: sql, operation: operation, standby: standby) }
            if after > .zero {
                // The connection is gone: whatever ends the wait (the deadline, a cancel), no answer comes.
                _ = await wait(until: database.clock.now.advanced(by: after), deadline: deadline)
            }
            let planned: StatementFault = if case .immediateShutdown = fault { .immediateShutdown } else {
                .connectionLostAfterSend
            }
            throw planned.transportError(for: sql, host: host, port: port)!
        case .server(let sqlState, let fatal):
            let planned: StatementFault =
                sqlState == "57P01" && fatal
                ? .backendTerminated
                : .sqlState(sqlState, message: Self.message(for: sqlState), fatal: fatal)
            throw planned.transportError(for: sql, host: host, port: port)!
        default:
            do {
                return try perform(statement, sql: sql, operation: operation, standby: standby)
            } catch let error as TransportError where statement == .executeUnknown && error.sqlState == "26000" {
                // Answered, so the operation has seen the error that no retry can change.
                database.noteDeterministicFailure(operation: operation)
                throw error
            }
        }
    }

    /// Applies the statement to the session and the database and returns its answer, or throws the server's error.
    private func perform(
        _ statement: ModelStatement,
        sql: String,
        operation: Int?,
        standby: Bool
    ) throws -> QueryResult {
        let transaction = state.withLock { $0.transaction }
        if transaction == .failed, statement != .commit, statement != .rollback {
            throw error("25P02", "current transaction is aborted, commands ignored until end of transaction block", sql)
        }
        let writes = statement.writes
            || (statement == .commit && state.withLock { !$0.buffered.isEmpty || !$0.bufferedMarkers.isEmpty })
        if standby, writes {
            // A session opened before a failover, still on the old primary: the failover is a fault it meets.
            database.metStaleSession(operation: operation, sql: sql)
            throw StatementFault.readOnlyError(for: sql, host: host, port: port)
        }
        switch statement {
        case .empty:
            return Self.command("")
        case .begin:
            state.withLock { state in
                if state.transaction == .idle {
                    state.transaction = .inBlock
                    state.transactionOwner = operation
                }
            }
            return Self.command("BEGIN")
        case .commit:
            if transaction == .failed {
                state.withLock { $0.endTransaction() }
                throw TransportError(
                    code: .commitRolledBack,
                    message: "COMMIT answered ROLLBACK: the transaction had failed, and nothing of it was committed",
                    host: host, port: port, phase: .sent, isConnectionUsable: true
                )
            }
            let (buffered, markers) = state.withLock { state in
                defer { state.endTransaction() }
                return (state.buffered, state.bufferedMarkers)
            }
            // One commit: the effects and the markers become durable together.
            database.apply(buffered, markers: markers)
            return Self.command("COMMIT")
        case .rollback:
            state.withLock { $0.endTransaction() }
            return Self.command("ROLLBACK")
        case .insert(let effect):
            let buffered = state.withLock { state in
                guard state.transaction == .inBlock else { return false }
                state.buffered.append(effect)
                return true
            }
            if !buffered { database.apply([effect]) }
            return Self.command("INSERT 0 1")
        case .readEffect(let effect):
            let rows: [[[UInt8]?]] = database.isApplied(effect) ? [[Array(String(effect).utf8)]] : []
            return QueryResult.make(
                columns: [.init(name: "id", type: 20, format: .text)], rows: rows, commandTag: "SELECT \(rows.count)"
            )
        case .selectOne:
            return QueryResult.make(
                columns: [.init(name: "?column?", type: 23, format: .text)], rows: [[Array("1".utf8)]],
                commandTag: "SELECT 1"
            )
        case .set:
            state.withLock { $0.settingOwner = operation }
            return Self.command("SET")
        case .advisoryLock:
            state.withLock { $0.lockOwner = operation }
            return QueryResult.make(
                columns: [.init(name: "pg_advisory_lock", type: 2278, format: .text)], rows: [[[]]],
                commandTag: "SELECT 1"
            )
        case .reset:
            state.withLock { state in
                state.settingOwner = nil
                state.lockOwner = nil
            }
            return Self.command(sql.uppercased().hasPrefix("SELECT") ? "SELECT 1" : sql.uppercased())
        case .markerTableExists:
            return Self.rows("format", 25, [ModelStatement.markerStatements.table])
        case .marker(let id):
            if database.markerExists(id) {
                throw error("23505", "duplicate key value violates unique constraint", sql)
            }
            let buffered = state.withLock { state in
                guard state.transaction == .inBlock else { return false }
                state.bufferedMarkers.append(id)
                return true
            }
            if !buffered { database.apply([], markers: [id]) }
            return Self.command("INSERT 0 1")
        case .claimMarker(let id):
            return Self.rows("is_fence", 16, [database.claimMarker(id) ? "t" : "f"])
        case .pruneMarkers:
            return Self.command("DELETE 0")
        case .executeUnknown:
            throw error("26000", "prepared statement \"nope\" does not exist", sql)
        case .unknown:
            throw error("42601", "syntax error", sql)
        }
    }

    /// Waits out a slow or hung statement; throws what libpq reports when it ends early.
    private func delay(until end: ContinuousClock.Instant?, sql: String, deadline: ContinuousClock.Instant?) async throws {
        switch await wait(until: end, deadline: deadline) {
        case .elapsed: return
        case .deadline: throw StatementFault.cancelledError(for: sql, byDeadline: true, host: host, port: port)
        case .cancelled: throw StatementFault.cancelledError(for: sql, byDeadline: false, host: host, port: port)
        case .terminated: throw StatementFault.backendTerminated.transportError(for: sql, host: host, port: port)!
        }
    }

    /// Waits until `end` (forever if nil), the deadline, the session's termination by a window, or cancellation.
    private func wait(until end: ContinuousClock.Instant?, deadline: ContinuousClock.Instant?) async -> WaitEnding {
        let clock = database.clock
        let termination = database.nextTermination(after: database.now).map { clock.start.advanced(by: $0) }
        let forever = clock.now.advanced(by: .seconds(365 * 86_400))
        var target = (end ?? forever, WaitEnding.elapsed)
        if let deadline, deadline < target.0 { target = (deadline, .deadline) }
        if let termination, termination < target.0 { target = (termination, .terminated) }
        do {
            try await clock.sleep(until: target.0, tolerance: nil)
            return target.1
        } catch {
            return .cancelled
        }
    }

    // MARK: - Session state

    /// Checks the session can send a statement, as libpq would before sending anything.
    private func begin(_ sql: String) throws {
        let busy = try state.withLock { state -> Bool in
            if state.isClosed {
                throw TransportError(code: .connectionClosed, message: "the connection is closed",
                                     host: host, port: port, phase: .notSent, isConnectionUsable: false)
            }
            if state.isBroken {
                throw TransportError(code: .connectionLost, message: "no connection to the server",
                                     host: host, port: port, phase: .notSent, isConnectionUsable: false)
            }
            if state.isRunning { return true }
            if Task.isCancelled {
                throw TransportError(code: .cancelled, message: "cancelled before the statement was sent",
                                     host: host, port: port, phase: .notSent, isConnectionUsable: true)
            }
            state.isRunning = true
            return false
        }
        if busy {
            database.report(.exclusiveSessions, "statement \(sql.debugDescription) sent on session s\(number) while "
                + "another statement was running on it")
            throw TransportError(code: .connectionBusy, message: "another statement is running on this connection",
                                 host: host, port: port, phase: .notSent, isConnectionUsable: true)
        }
    }

    /// Notes a statement of one operation that finds session state another operation left.
    private func checkCarriedState(_ statement: ModelStatement, sql: String, operation: Int?) {
        guard let operation, !statement.cleansSession else { return }
        let carried = state.withLock { state -> [String] in
            guard !state.reportedCrossings.contains(operation) else { return [] }
            var carried: [String] = []
            if let owner = state.settingOwner, owner != operation { carried.append("a SET by op \(owner)") }
            if let owner = state.lockOwner, owner != operation { carried.append("an advisory lock taken by op \(owner)") }
            if state.transaction != .idle, let owner = state.transactionOwner, owner != operation {
                carried.append("a transaction opened by op \(owner)")
            }
            if !carried.isEmpty { state.reportedCrossings.insert(operation) }
            return carried
        }
        guard !carried.isEmpty else { return }
        database.report(.noStateAcrossLeases, "op \(operation) ran \(sql.debugDescription) on session s\(number), "
            + "which still held \(carried.joined(separator: " and "))")
    }

    /// The session's state after a failure: broken when the connection is gone; a block failed by an error; a
    /// transaction ended by a failed `COMMIT` or `ROLLBACK`.
    private func settle(after error: TransportError, statement: ModelStatement) {
        state.withLock { state in
            if !error.isConnectionUsable {
                state.isBroken = true
                state.endTransaction()
                return
            }
            guard error.phase != .notSent else { return }
            switch statement {
            case .commit, .rollback: state.endTransaction()
            default: if state.transaction == .inBlock { state.transaction = .failed }
            }
        }
    }

    private func error(_ sqlState: SQLState, _ message: String, _ sql: String) -> TransportError {
        StatementFault.sqlState(sqlState, message: message).transportError(for: sql, host: host, port: port)!
    }

    /// One text column of the given type, one row per value.
    private static func rows(_ column: String, _ type: PostgresOID, _ values: [String]) -> QueryResult {
        QueryResult.make(
            columns: [.init(name: column, type: type, format: .text)], rows: values.map { [Array($0.utf8)] },
            commandTag: "SELECT \(values.count)"
        )
    }

    private static func command(_ tag: String) -> QueryResult {
        QueryResult.make(columns: [], rows: [], commandTag: tag)
    }

    private static func message(for sqlState: SQLState) -> String {
        switch sqlState {
        case "40001": "could not serialize access due to concurrent update"
        case "40P01": "deadlock detected"
        case "55P03": "canceling statement due to lock timeout"
        case "53200": "out of memory"
        case "26000": "prepared statement \"s1\" does not exist"
        default: "injected error"
        }
    }
}

extension ModelSession.State {
    fileprivate mutating func endTransaction() {
        transaction = .idle
        transactionOwner = nil
        buffered = []
        bufferedMarkers = []
    }
}
