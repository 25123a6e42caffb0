internal import CLibPQ
import PostgresPolicy
import Synchronization

/// One PostgreSQL session over libpq, driven without blocking: statements are sent and answered through socket
/// readiness, so no Swift cooperative thread ever waits on the network.
///
/// The connection runs one statement at a time and knows nothing of retries: every failure is thrown as a
/// ``TransportError`` that says what happened and how far the request had got. Cancelling the calling task while a
/// statement runs sends the server a cancel request; the call then returns as soon as the server answers it (with
/// ``TransportError/Code/cancelled``, SQLSTATE 57014), and the connection stays usable. A server that does not answer
/// a cancel within ``Options/cancelGracePeriod`` is treated as hung, and the connection is closed. A cancel request
/// still on its way when its statement ends never cancels the next one: the next statement waits until the request
/// has been delivered (about one round trip to the server).
///
/// The connection runs on the `IOThread` that waits for its socket, chosen when it connects: it is the actor's
/// executor, so an answer that arrives is read on the thread that saw it, without a hop. A task that runs its
/// statements with that thread as its task executor preference (`ioThread`) shares the thread as well. The client's
/// statements from a task elsewhere are sent and read in that task's own job, isolated to the connection, while the
/// thread runs no job (`startInPlace`).
public actor LibPQConnection {
    /// How a connection behaves, beyond what libpq's connection options say.
    public struct Options: Sendable {
        /// How long the server gets to answer a cancel request before the connection is closed as hung.
        public var cancelGracePeriod: Duration
        /// Called for every notice the server sends (`RAISE NOTICE`, warnings), isolated to the connection, within
        /// the libpq call that read it: on the connection's I/O thread, or in the job of a task elsewhere that sent a
        /// statement in place (the client's `query` and `execute`) or reads a row stream's rows, while the I/O thread
        /// runs none of its jobs. Keep
        /// it short, and never wait in it for the connection's thread.
        public var noticeHandler: (@Sendable (Notice) -> Void)?
        /// How many named statements ``LibPQConnection/executePrepared(_:parameters:resultFormat:deadline:)`` keeps
        /// prepared on the server (least recently used deallocated first); 0 turns the cache off.
        public var preparedStatementCapacity: Int
        /// The longest a connect waits for one host of a multi-host list before it moves on to the next, when the
        /// connection options do not set `connect_timeout`; nil to give the first host the whole connect deadline.
        ///
        /// See ``LibPQConnection/connect(_:timeout:options:)``. A single host is not limited by it.
        public var hostConnectTimeout: Duration?

        /// Options with the defaults: a 5-second cancel grace period, no notice handler, up to 256 prepared
        /// statements, and 5 seconds for each host of a multi-host list.
        public init(
            cancelGracePeriod: Duration = .seconds(5),
            noticeHandler: (@Sendable (Notice) -> Void)? = nil,
            preparedStatementCapacity: Int = 256,
            hostConnectTimeout: Duration? = .seconds(5)
        ) {
            self.cancelGracePeriod = cancelGracePeriod
            self.noticeHandler = noticeHandler
            self.preparedStatementCapacity = preparedStatementCapacity
            self.hostConnectTimeout = hostConnectTimeout
        }
    }

    /// The transaction state of the session, as libpq reports it after the last statement.
    public enum TransactionStatus: Sendable, Hashable {
        /// Not in a transaction block.
        case idle
        /// Inside a transaction block.
        case inTransaction
        /// Inside a failed transaction block: every statement fails until `ROLLBACK`.
        case failedTransaction
        /// A statement is running.
        case active
        /// The connection is broken.
        case unknown
    }

    /// The PGconn; nil once closed. Touched only isolated to this actor (and in deinit, when no one else can): every
    /// libpq call on it runs on ``ioThread``, or in a step elsewhere that holds its isolation
    /// (`IOThread.withIsolationIfIdle`), one at a time, so a close never frees it under a running call.
    private var handle: ConnectionHandle?
    var connection: OpaquePointer? { handle?.raw }
    let notices: NoticeCollector
    let cancellation: StatementCancellation
    var isRunningStatement = false {
        didSet { publishReadiness() }
    }
    /// Whether the session is usable and outside any transaction block after its last statement, published for
    /// readers off the actor (see ``isIdleOutsideTransaction``).
    let readiness: Atomic<Bool>
    /// The named statements prepared on this session, for ``executePrepared(_:parameters:resultFormat:deadline:)``.
    var preparedStatements: PreparedStatementCache
    /// The statement whose rows or COPY data are being streamed, between its start and its end; nil otherwise.
    var streaming: StreamingStatement?

    /// The host this session is connected to (the one libpq chose from a multi-host list).
    public nonisolated let host: String?
    /// The port this session is connected to.
    public nonisolated let port: Int?
    /// The server process serving this session (what `pg_backend_pid()` returns there).
    public nonisolated let backendPID: Int32
    /// The local TCP port of the session (the server's `client_port` for it), or nil over a Unix-domain socket.
    public nonisolated let localPort: Int?
    /// The server's version as an integer, 150018 for 15.18.
    public nonisolated let serverVersion: Int
    /// The thread this connection runs on and waits for its socket on: its executor, and the task executor that
    /// lets a caller's task run there too.
    package nonisolated let ioThread: IOThread

    /// The connection's I/O thread: everything the connection does runs there, one job at a time, but for the steps
    /// of statements sent in place from elsewhere (`startInPlace`), which run while the thread runs no job.
    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        ioThread.asUnownedSerialExecutor()
    }

    init(handle: ConnectionHandle, thread: IOThread, options: Options) {
        let connection = handle.raw
        self.handle = handle
        self.ioThread = thread
        self.notices = NoticeCollector(handler: options.noticeHandler)
        self.cancellation = StatementCancellation(
            token: CancelToken(connection: connection),
            grace: options.cancelGracePeriod,
            readiness: thread.readiness
        )
        self.preparedStatements = PreparedStatementCache(capacity: options.preparedStatementCapacity)
        self.host = ConnectAttempt.host(of: connection)
        self.port = ConnectAttempt.port(of: connection)
        self.backendPID = PQbackendPID(connection)
        self.localPort = Self.localPort(of: PQsocket(connection))
        self.serverVersion = Int(PQserverVersion(connection))
        self.readiness = Atomic(Self.isIdleOutsideTransaction(connection))
        notices.install(on: connection)
    }

    deinit {
        if let pendingError = streaming?.pendingError { PQclear(pendingError) }
        if let handle { PQfinish(handle.raw) }
    }

    var endpoint: Endpoint { Endpoint(host: host, port: port) }

    /// Whether the session can run a statement: open, not broken, and no statement running.
    public var isUsable: Bool {
        guard let connection else { return false }
        return Self.isUsable(connection)
    }

    /// The transaction state after the last statement.
    public var transactionStatus: TransactionStatus {
        guard let connection else { return .unknown }
        switch PQtransactionStatus(connection) {
        case PQTRANS_IDLE: return .idle
        case PQTRANS_INTRANS: return .inTransaction
        case PQTRANS_INERROR: return .failedTransaction
        case PQTRANS_ACTIVE: return .active
        default: return .unknown
        }
    }

    /// A run-time parameter the server reports (`server_version`, `in_hot_standby`, `TimeZone`, ...), as last sent.
    public func parameterStatus(_ name: String) -> String? {
        guard let connection, let value = PQparameterStatus(connection, name) else { return nil }
        return String(cString: value)
    }

    /// Whether the server said it is a hot standby (`in_hot_standby`, reported by PostgreSQL 14 and later), or nil
    /// when it did not say. After a promotion, this flips only after the next round trip.
    public var inHotStandby: Bool? {
        parameterStatus("in_hot_standby").map { $0 == "on" }
    }

    /// Closes the session. Statements afterwards fail with ``TransportError/Code/connectionClosed``; so does a
    /// statement waiting for its answer, at once.
    public func close() {
        guard let connection else { return }
        handle = nil
        publishReadiness()
        // In non-blocking mode PQfinish only tries to send the Terminate message; it does not wait for the network.
        PQfinish(connection)
        // A statement suspended on the socket resumes to find the connection gone (see `continueWait`, and
        // `waitForSocket` for streams, COPY and pipelines).
        if isRunningStatement { cancellation.interruptWait() }
        // A row stream's server error, read while the statement's end had not arrived, is how the stream ends: the
        // next call throws it.
        if let pendingError = streaming?.pendingError {
            streaming?.pendingError = nil
            let ending = failedEnding(pendingError, isConnectionUsable: false)
            streaming?.ending = ending
        }
    }

    /// Runs one statement with bound parameters (`PQsendQueryParams`) and returns its result.
    ///
    /// - Parameters:
    ///   - sql: One SQL statement, with `$1`, `$2`, ... for the parameters.
    ///   - parameters: The values bound to `$1`, `$2`, ...; never spliced into the SQL.
    ///   - resultFormat: The wire format of the result's values.
    ///   - deadline: When reached, a cancel request is sent; if the server does not answer it within the grace
    ///     period, the connection is closed.
    /// - Throws: ``TransportError``. A `COMMIT` that answers `ROLLBACK` throws ``TransportError/Code/commitRolledBack``.
    public func execute(
        _ sql: String,
        parameters: [Parameter] = [],
        resultFormat: ValueFormat = .text,
        deadline: ContinuousClock.Instant? = nil
    ) async throws -> QueryResult {
        let connection = try await beginStatement(deadline: deadline)
        return try await complete(
            try send(connection, sql, parameters: parameters, resultFormat: resultFormat), deadline: deadline
        )
    }

    /// Starts a statement without entering the actor: claims the connection, sends the statement
    /// (``execute(_:parameters:resultFormat:deadline:)``'s, or with `prepared`,
    /// ``executePrepared(_:parameters:resultFormat:deadline:)``'s) and reads its answer as far as it has arrived, in
    /// one synchronous step isolated to the connection, in the caller's job. A statement `answered` is over; one
    /// `waiting` must be completed with ``completeWaiting(_:deadline:)`` at once, which waits from the caller's job
    /// too. `mustStartOnActor` means nothing was done: the caller is not on ``ioThread`` and that thread runs jobs
    /// (or its loop waits to), or the I/O threads are the global executor; a cancel request of an earlier statement
    /// is still in flight; or the statement must be prepared first. Run it the usual way.
    ///
    /// The step runs where the caller is. On ``ioThread`` (a task that prefers it, or any task once the I/O threads
    /// are the global executor), where the connection's jobs run one at a time and none while the caller's does. On
    /// any other thread (a task on Swift's global executor, the usual case), while the loop of ``ioThread`` runs no
    /// job (`IOThread.withIsolationIfIdle`): it waits in `epoll_wait` then, as it mostly does, or runs its jobs after
    /// the step. Either saves the two trips that entering the actor and leaving it cost (a custom executor cannot
    /// take over a thread inline): more than the rest of a short statement costs, and from another thread, two
    /// hand-overs between threads. The step is synchronous so that it costs the caller no async frame and no switch
    /// of executors of its own.
    ///
    /// - Throws: ``TransportError``, as the statement's entry point does; the statement is over when this throws.
    package nonisolated func startInPlace(
        _ sql: String,
        parameters: [Parameter],
        resultFormat: ValueFormat,
        prepared: Bool
    ) throws -> StatementStart {
        if ioThread.isCurrent {
            return try startIsolatedInPlace(sql, parameters: parameters, resultFormat: resultFormat, prepared: prepared)
        }
        return try ioThread.withIsolationIfIdle {
            try startIsolatedInPlace(sql, parameters: parameters, resultFormat: resultFormat, prepared: prepared)
        } ?? .mustStartOnActor
    }

    /// ``startInPlace(_:parameters:resultFormat:prepared:)``'s step, for a caller isolated to the connection without
    /// a job of its own: on ``ioThread``, or holding its isolation (`IOThread.withIsolationIfIdle`).
    @inline(__always)
    private nonisolated func startIsolatedInPlace(
        _ sql: String,
        parameters: [Parameter],
        resultFormat: ValueFormat,
        prepared: Bool
    ) throws -> StatementStart {
        // The step runs isolated to the connection, here, without a job. It is what the standard library's
        // `assumeIsolated` does (an isolated function called as a plain one: the isolation is a parameter like any
        // other), with the caller's own check in place of the runtime's, which asks the executor through its
        // witness, and with a global function rather than a closure, which `assumeIsolated`'s conversion would box
        // on the heap twice a statement (a static method would be once, for its metatype).
        typealias IsolatedStep = (isolated LibPQConnection, String, [Parameter], ValueFormat, Bool) throws
            -> StatementStart
        typealias Step = (LibPQConnection, String, [Parameter], ValueFormat, Bool) throws -> StatementStart
        let step = unsafeBitCast(startIsolated as IsolatedStep, to: Step.self)
        return try step(self, sql, parameters, resultFormat, prepared)
    }

    /// Claims the connection and sends the statement, reading its answer as far as it has arrived, all without
    /// waiting; `mustStartOnActor`, claiming nothing, while a cancel request of an earlier statement is in flight.
    func startWithoutWaiting(
        _ sql: String,
        parameters: [Parameter],
        resultFormat: ValueFormat
    ) throws -> StatementStart {
        if cancellation.isInFlight { return .mustStartOnActor }
        return try send(try startStatement(), sql, parameters: parameters, resultFormat: resultFormat)
    }

    /// Sends a statement on the connection claimed for it, and reads its answer as far as it has arrived without
    /// waiting. The claim ends here, unless the statement is `waiting`: ``completeWaitingOnActor(_:deadline:)`` (on
    /// the actor) or ``completeWaiting(_:deadline:)`` (in the caller's job) ends it.
    private func send(
        _ connection: OpaquePointer,
        _ sql: String,
        parameters: [Parameter],
        resultFormat: ValueFormat
    ) throws -> StatementStart {
        try endingClaimUnlessWaiting {
            try checkParameters(parameters)
            let wasConnected = PQstatus(connection) == CONNECTION_OK
            // `withCString` hands libpq the string's own NUL-terminated UTF-8 (a native string has it); passing `sql`
            // itself would convert it through `utf8CString`, a copy on the heap for every statement.
            let sent = sql.withCString { sql in
                ParameterBuffers.withBuffers(for: parameters) { count, types, values, lengths, formats in
                    PQsendQueryParams(connection, sql, count, types, values, lengths, formats, resultFormat.rawValue)
                }
            }
            let phaseIfSent: TransportError.Phase = StatementText.isCommit(sql) ? .commitInFlight : .sent
            guard sent == 1 else {
                throw sendFailure(connection, wasConnected: wasConnected, phaseIfSent: phaseIfSent)
            }
            return try readWithoutWaiting(connection, statement: sql, phaseIfSent: phaseIfSent)
        }
    }

    /// Runs `start`, a statement's send and first read on the connection claimed for it, and ends the claim unless
    /// the statement is `waiting` (``completeWaitingOnActor(_:deadline:)`` or ``completeWaiting(_:deadline:)`` ends it
    /// then), or if `start` throws.
    @inline(__always)
    func endingClaimUnlessWaiting(_ start: () throws -> StatementStart) rethrows -> StatementStart {
        do {
            let started = try start()
            if case .waiting = started { return started }
            isRunningStatement = false
            return started
        } catch {
            isRunningStatement = false
            throw error
        }
    }

    /// Runs SQL text through the simple query protocol (`PQsendQuery`): several statements may be separated by
    /// semicolons, and no parameters can be bound. Returns the last statement's result. Never pass it values that
    /// came from outside: use ``execute(_:parameters:resultFormat:deadline:)``, which binds them.
    public func executeUnsafeScript(_ sql: String, deadline: ContinuousClock.Instant? = nil) async throws -> QueryResult {
        let connection = try await beginStatement(deadline: deadline)
        let start = try endingClaimUnlessWaiting {
            let wasConnected = PQstatus(connection) == CONNECTION_OK
            let phaseIfSent: TransportError.Phase = StatementText.isCommit(sql) ? .commitInFlight : .sent
            // `withCString`: no copy of the text on the heap (see `send`).
            guard sql.withCString({ PQsendQuery(connection, $0) }) == 1 else {
                throw sendFailure(connection, wasConnected: wasConnected, phaseIfSent: phaseIfSent)
            }
            return try readWithoutWaiting(connection, statement: sql, phaseIfSent: phaseIfSent)
        }
        return try await complete(start, deadline: deadline)
    }

    /// The rest of a statement started on the actor, on the connection claimed for it: its result when it was
    /// answered at once, or its answer waited for (``completeWaitingOnActor(_:deadline:)``). Always inlined into the
    /// entry points, as what it calls is.
    @inline(__always)
    func complete(_ start: StatementStart, deadline: ContinuousClock.Instant?) async throws -> QueryResult {
        switch start {
        case .answered(let result):
            return result
        case .waiting(let pending):
            return try await completeWaitingOnActor(pending, deadline: deadline.map(OffsetInstant.init))
        case .mustStartOnActor:
            preconditionFailure("a statement claimed its connection, then had to start again")
        }
    }

    // MARK: - Statement machinery

    /// Claims the connection for one statement, once no cancel request sent for an earlier statement can still
    /// reach the server (it would cancel this one instead); every entry point that sends a statement starts here.
    ///
    /// Always inlined: without a cancel request in flight (the rule), the statement starts at once, without the
    /// suspension point of an async call; only a wait for a cancel in flight makes one.
    @inline(__always)
    func beginStatement(deadline: ContinuousClock.Instant?) async throws -> OpaquePointer {
        cancellation.isInFlight ? try await startStatementAfterCancel(deadline: deadline) : try startStatement()
    }

    /// Claims the connection for one statement once the cancel request in flight can no longer reach the server.
    private func startStatementAfterCancel(deadline: ContinuousClock.Instant?) async throws -> OpaquePointer {
        guard connection != nil else { throw closedError() }
        guard !isRunningStatement else { throw busyError() }
        // Claimed while it waits, so that no other statement starts meanwhile.
        isRunningStatement = true
        do {
            try await waitForCancelInFlight(deadline: deadline)
        } catch {
            isRunningStatement = false
            throw error
        }
        // Given up and claimed again in one synchronous step: no other statement can start in between.
        isRunningStatement = false
        return try startStatement()
    }

    /// Claims the connection for one statement that has no cancel request to wait for (`cancellation.isInFlight` is
    /// false, or the wait for it is over): fails if the connection is closed or busy, or the task is cancelled.
    ///
    /// Synchronous, so that the rule (no cancel in flight) costs a statement no suspension point of its own.
    func startStatement() throws -> OpaquePointer {
        guard let connection else { throw closedError() }
        guard !isRunningStatement else { throw busyError() }
        if Task.isCancelled {
            throw TransportError(code: .cancelled, message: "cancelled before the statement was sent", host: host,
                                 port: port, phase: .notSent, isConnectionUsable: Self.isUsable(connection))
        }
        isRunningStatement = true
        notices.reset()
        return connection
    }

    private func busyError() -> TransportError {
        TransportError(code: .connectionBusy, message: "another statement is running on this connection",
                       host: host, port: port, phase: .notSent, isConnectionUsable: true)
    }

    private func closedError() -> TransportError {
        TransportError(code: .connectionClosed, message: "the connection is closed",
                       host: host, port: port, phase: .notSent, isConnectionUsable: false)
    }

    /// Waits for a cancel request of an earlier statement that is still being sent; closes the connection when the
    /// send outlasts its grace period, as for a cancel request the server leaves unanswered.
    private func waitForCancelInFlight(deadline: ContinuousClock.Instant?) async throws {
        switch await cancellation.waitForCancelInFlight(until: deadline) {
        case .settled:
            return
        case .cancelled:
            throw TransportError(code: .cancelled, message: "cancelled before the statement was sent", host: host,
                                 port: port, phase: .notSent, isConnectionUsable: isUsable)
        case .deadlinePassed:
            throw TransportError(
                code: .deadlineExceeded,
                message: "the deadline passed while a cancel request for an earlier statement was still being sent",
                host: host, port: port, phase: .notSent, isConnectionUsable: isUsable
            )
        case .hung:
            close()
            throw TransportError(
                code: .connectionLost,
                message: "a cancel request for an earlier statement could not be sent in time; "
                    + "the connection was closed",
                host: host, port: port, phase: .notSent, isConnectionUsable: false
            )
        }
    }

    /// The failure of a `PQsend*` call that returned 0. If the connection was already broken ("no connection to the
    /// server") or is still fine (a request libpq refused before writing), nothing was sent; if it broke during the
    /// call, part of the request may have reached the server.
    func sendFailure(
        _ connection: OpaquePointer,
        wasConnected: Bool,
        phaseIfSent: TransportError.Phase
    ) -> TransportError {
        let isConnected = PQstatus(connection) == CONNECTION_OK
        let phase: TransportError.Phase = wasConnected && !isConnected ? phaseIfSent : .notSent
        return TransportError.fromConnectionMessage(
            connection, code: isConnected ? .server : .connectionLost, phase: phase,
            endpoint: endpoint, isConnectionUsable: Self.isUsable(connection)
        )
    }

    /// How far a statement got without waiting.
    package enum StatementStart: @unchecked Sendable {
        // @unchecked Sendable: a `waiting` statement's results are its task's alone, handed from the step that sent
        // it to the same task's next step on the connection (`completeWaiting`).

        /// The whole answer was there: the statement is over.
        case answered(QueryResult)
        /// The statement was sent, and its answer has not all arrived: the connection stays claimed for it.
        case waiting(PendingStatement)
        /// Nothing was sent, nor the connection claimed: the statement must start on the actor, as the connection's
        /// thread runs jobs, a cancel request of an earlier statement is still in flight, or it must be prepared
        /// first.
        case mustStartOnActor
    }

    /// A statement sent whose answer has not all arrived, with what was read of it.
    package struct PendingStatement: @unchecked Sendable {
        // @unchecked Sendable: its results are its statement's alone, handed by the connection to the same task's
        // next step on the connection (see `StatementStart`).
        /// The session that sent it, which completes it (``LibPQConnection/completeWaiting(_:deadline:)``): a caller
        /// that holds the session as a `DatabaseConnection` reaches it without a cast or a protocol witness.
        /// Unowned and unchecked, as the statement lives only from its send to its completion, in one call of its
        /// task, while the caller holds the session; a counted reference would cost every statement that waits a
        /// retain and a release, and each copy of the statement's wait more.
        package unowned(unsafe) let session: LibPQConnection
        let connection: OpaquePointer
        let collected: CollectedResults
        let statement: String
        let phaseIfSent: TransportError.Phase
        /// Whether the input was read after the request was flushed, so that the first thing to do is to wait.
        let waitingFirst: Bool
        /// The name of the prepared statement run, whose failure the cache must hear of.
        let preparedAs: String?
    }

    /// Reads the statement's answer as far as it has arrived, without waiting: the whole answer, when it is there
    /// (a short statement, a fast server), is then collected without the cancellation handler, the cancel
    /// registration and the preference of the thread, which serve only a statement that waits, and which cost one
    /// that does not two records of the task's status pushed and popped, two locks and several switches of
    /// executors. The task may be cancelled at any moment from another thread; this does not look, since the answer
    /// is complete, and the deadline is looked at only when a wait ends, with or without it. With no `begin`, a
    /// cancel request the connection still keeps is an earlier statement's, which `finish` must not read
    /// (`couldRequestCancel: false`).
    ///
    /// `preparedAs` names the prepared statement run, whose failure the cache must hear of.
    @inline(__always)
    func readWithoutWaiting(
        _ connection: OpaquePointer,
        statement: String,
        phaseIfSent: TransportError.Phase,
        preparedAs: String? = nil
    ) throws -> StatementStart {
        do {
            var collected = CollectedResults()
            let start = try collectWithoutWaiting(connection, into: &collected, phaseIfSent: phaseIfSent)
            guard start == .done else {
                return .waiting(PendingStatement(
                    session: self, connection: connection, collected: collected, statement: statement,
                    phaseIfSent: phaseIfSent,
                    waitingFirst: start == .mustWait(consumed: true), preparedAs: preparedAs
                ))
            }
            return .answered(try finish(
                connection, collected, statement: statement, phaseIfSent: phaseIfSent,
                isCommit: phaseIfSent == .commitInFlight, couldRequestCancel: false
            ))
        } catch var error as TransportError {
            if let preparedAs { notePreparedStatementFailure(&error, name: preparedAs) }
            throw error
        }
    }

    struct CollectedResults {
        /// The first error result: the cause. Later ones (libpq's "server closed the connection") are consequences.
        var firstError: OpaquePointer?
        /// Whether a non-error result arrived before the first error: the statement was answered, and the error
        /// came after it (a FATAL the server sent when it next read from the client).
        var answeredBeforeError = false
        /// The last non-error result.
        var last: OpaquePointer?

        /// Clears the results collected, for a statement that fails without them.
        func clear() {
            firstError.map { PQclear($0) }
            last.map { PQclear($0) }
        }
    }

    /// How far ``collectWithoutWaiting(_:into:phaseIfSent:)`` got.
    private enum EarlyCollection: Equatable {
        /// Every result was read, or the connection broke (`finish` says why).
        case done
        /// The answer is not all there: wait, after reading the input once more unless it was `consumed` already.
        case mustWait(consumed: Bool)
    }

    /// Reads the statement's answer as far as it has arrived, without waiting: the request sent in full, the input
    /// read once, and every result it completes. Throws, having cleared what it collected.
    @inline(__always)
    private func collectWithoutWaiting(
        _ connection: OpaquePointer,
        into collected: inout CollectedResults,
        phaseIfSent: TransportError.Phase
    ) throws -> EarlyCollection {
        let flushed = PQflush(connection)
        if flushed < 0 { return .done }  // broken; PQgetResult in `finish` reports why
        if flushed == 1 { return .mustWait(consumed: false) }
        if PQconsumeInput(connection) == 0, PQisBusy(connection) == 1 { return .done }  // broken, as below
        do {
            return try readResults(connection, into: &collected, phaseIfSent: phaseIfSent)
                ? .done : .mustWait(consumed: true)
        } catch {
            collected.clear()
            collected = CollectedResults()
            throw error
        }
    }

    /// Takes every result libpq has ready (`PQgetResult` only blocks while `PQisBusy` says so); returns true once
    /// `PQgetResult` returned NULL, the end of the statement's results.
    @inline(__always)
    func readResults(
        _ connection: OpaquePointer,
        into collected: inout CollectedResults,
        phaseIfSent: TransportError.Phase
    ) throws -> Bool {
        while PQisBusy(connection) == 0 {
            guard let result = PQgetResult(connection) else { return true }
            switch PQresultStatus(result) {
            case PGRES_FATAL_ERROR, PGRES_BAD_RESPONSE, PGRES_NONFATAL_ERROR:
                if collected.firstError == nil {
                    collected.firstError = result
                    collected.answeredBeforeError = collected.last != nil
                } else {
                    PQclear(result)
                }
            case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
                PQclear(result)
                close()
                throw TransportError(
                    code: .unsupportedResult, message: "COPY is not supported here; the connection was closed",
                    host: host, port: port, phase: phaseIfSent, isConnectionUsable: false
                )
            default:
                collected.last.map { PQclear($0) }
                collected.last = result
            }
        }
        return false
    }

    /// Waits for the socket, sending a cancel request when the deadline passes, and closing the connection when a
    /// cancel request (the caller's or the deadline's) goes unanswered for the grace period. Throws
    /// ``TransportError/Code/connectionClosed`` when the connection was closed during the wait: the caller must not
    /// touch the PGconn it holds after that.
    ///
    /// Always inlined, as is the readiness wait it makes: each is an async layer that every wait of a statement
    /// would pay with a frame and its switches of executors, and neither holds a value of its own across the wait.
    @inline(__always)
    func waitForSocket(
        _ interest: SocketReadiness.Interest,
        registration: SocketReadiness.Registration,
        phase: TransportError.Phase,
        deadline: ContinuousClock.Instant?
    ) async throws {
        let deadline = deadline.map(OffsetInstant.init)
        while true {
            // A wait holds no instant of its own unless a cancel was requested (see `isRequested`).
            let outcome =
                cancellation.isRequested
                ? await waitForCancelAnswer(interest, registration: registration, deadline: deadline)
                : await ioThread.readiness.wait(for: interest, on: registration, until: deadline)
            guard connection != nil else { throw closedDuringStatement(phase: phase) }
            if outcome == .ready { return }
            try waitEnded(phase: phase, deadline: deadline)
            // Otherwise a spurious wake, or a cancel just requested: wait again.
        }
    }

    /// Waits for the socket until the grace deadline of the cancel requested for the running statement, isolated to
    /// `isolation`: the connection, or nothing for a statement that waits from the caller's job
    /// (``completeWaiting(_:deadline:)``), which takes no preference of the thread unless `prefersThread`.
    ///
    /// Never inlined, nor is ``waitEnded(phase:deadline:)``: an async function makes room for every value of a size
    /// known only at run time that its body (inlined callees included) may hold, an allocation of the task each,
    /// on every call; these instants belong to the rare paths, and the statement's own collection must not pay
    /// for them.
    @inline(never)
    func waitForCancelAnswer(
        _ interest: SocketReadiness.Interest,
        registration: SocketReadiness.Registration,
        deadline: OffsetInstant?,
        prefersThread: Bool = true,
        isolation: isolated (any Actor)? = #isolation
    ) async -> SocketReadiness.Outcome {
        let waitUntil = cancellation.request.map { OffsetInstant($0.graceDeadline) } ?? deadline
        return await ioThread.readiness.wait(
            for: interest, on: registration, until: waitUntil, prefersThread: prefersThread, isolation: isolation
        )
    }

    /// After a wait that ended without the socket being ready: closes the connection and throws when a cancel
    /// request went unanswered for its grace period, sends one when the statement's deadline has passed.
    @inline(never)
    func waitEnded(phase: TransportError.Phase, deadline: OffsetInstant?) throws {
        let now = ContinuousClock.now
        if let request = cancellation.request {
            guard now >= request.graceDeadline else { return }
            close()
            throw TransportError(
                code: request.reason == .task ? .cancelled : .deadlineExceeded,
                message: "the server did not answer the cancel request in time; the connection was closed",
                host: host, port: port, phase: phase, isConnectionUsable: false
            )
        }
        if let deadline, OffsetInstant(now) >= deadline {
            cancellation.requestCancel(.deadline)
        }
    }

    /// Turns the collected results into the statement's result or its failure. `couldRequestCancel` is false for a
    /// statement collected without its cancellation (see ``explain(_:couldRequestCancel:)``).
    func finish(
        _ connection: OpaquePointer,
        _ collected: CollectedResults,
        statement: String,
        phaseIfSent: TransportError.Phase,
        isCommit: Bool,
        couldRequestCancel: Bool
    ) throws -> QueryResult {
        let isUsable = Self.isUsable(connection)
        if let errorResult = collected.firstError {
            if collected.answeredBeforeError, isCommit, let answer = collected.last {
                switch String(cString: PQcmdStatus(answer)) {
                case "COMMIT":
                    // The server answered COMMIT, then ended the session (a termination it acted on when it read the
                    // Sync that follows, after committing): the transaction committed.
                    PQclear(errorResult)
                    return QueryResult(taking: answer)
                case "ROLLBACK":
                    // The answer is final here too: the transaction had failed, and nothing of it was committed.
                    PQclear(errorResult)
                    PQclear(answer)
                    throw commitRolledBack(isConnectionUsable: isUsable)
                default:
                    break
                }
            }
            defer { PQclear(errorResult) }
            collected.last.map { PQclear($0) }
            var error = TransportError.fromErrorResult(
                errorResult, statement: statement, phase: phaseIfSent, endpoint: endpoint, isConnectionUsable: isUsable
            )
            // Answered, then an error: the session ended after the statement ran, and whether its implicit commit
            // (done when the server reads the Sync) happened first is not known.
            error.cameAfterAnswer = collected.answeredBeforeError
            explain(&error, couldRequestCancel: couldRequestCancel)
            throw error
        }
        guard let result = collected.last else {
            var error = TransportError.fromConnectionMessage(
                connection, code: isUsable ? .server : .connectionLost, phase: phaseIfSent,
                endpoint: endpoint, isConnectionUsable: isUsable
            )
            explain(&error, couldRequestCancel: couldRequestCancel)
            throw error
        }
        if isCommit, String(cString: PQcmdStatus(result)) == "ROLLBACK" {
            PQclear(result)
            throw commitRolledBack(isConnectionUsable: isUsable)
        }
        return QueryResult(taking: result)
    }

    private func commitRolledBack(isConnectionUsable: Bool) -> TransportError {
        TransportError(
            code: .commitRolledBack,
            message: "COMMIT answered ROLLBACK: the transaction had failed, and nothing of it was committed",
            host: host, port: port, phase: .sent, isConnectionUsable: isConnectionUsable
        )
    }

    /// Adds what the connection knows beyond the error itself: the operator-intervention notice that preceded a lost
    /// connection, and the cancel request behind a 57014.
    ///
    /// The cancel request is the one ``StatementCancellation/request`` keeps, which outlives the statement's `end()`
    /// until the next `begin()`. A statement collected without `begin()` (answered at its first read) passes
    /// `couldRequestCancel: false`: a request kept then is an earlier statement's, and its 57014 the server's own.
    func explain(_ error: inout TransportError, couldRequestCancel: Bool = true) {
        if error.sqlState == nil, let notice = notices.lastOperatorIntervention {
            error.sqlState = notice.sqlState
            error.sqlStateFromNotice = true
            error.detail = error.detail ?? notice.detail
        }
        if error.sqlState == .queryCanceled, couldRequestCancel, let request = cancellation.request {
            error.code = request.reason == .task ? .cancelled : .deadlineExceeded
        }
    }

    static func isUsable(_ connection: OpaquePointer) -> Bool {
        guard PQstatus(connection) == CONNECTION_OK else { return false }
        let status = PQtransactionStatus(connection)
        return status != PQTRANS_ACTIVE && status != PQTRANS_UNKNOWN
    }
}

/// The step of `LibPQConnection.startInPlace(_:parameters:resultFormat:prepared:)` isolated to the connection: a
/// global function, so that a reference to it needs no context on the heap.
private func startIsolated(
    _ connection: isolated LibPQConnection,
    _ sql: String,
    _ parameters: [Parameter],
    _ resultFormat: ValueFormat,
    _ prepared: Bool
) throws -> LibPQConnection.StatementStart {
    prepared
        ? try connection.startPreparedWithoutWaiting(sql, parameters: parameters, resultFormat: resultFormat)
        : try connection.startWithoutWaiting(sql, parameters: parameters, resultFormat: resultFormat)
}
