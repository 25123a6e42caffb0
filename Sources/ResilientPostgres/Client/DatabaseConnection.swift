public import PostgresTransport

/// The seam between the client and a connection: what retries, pooling and failover need of one session.
///
/// ``LibPQConnection`` implements it over libpq; test doubles implement it with a script. Everything above it can
/// therefore be exercised without a server. Failures are thrown as `TransportError` facts.
package protocol DatabaseConnection: AnyObject, Sendable {
    /// The host the session is on.
    var host: String? { get }
    /// The port the session is on.
    var port: Int? { get }
    /// The server process serving the session, when it is known (a libpq session); nil for test doubles.
    var serverProcess: ServerProcess? { get }
    /// The executor the session does its I/O on, for a caller's task to prefer (`withTaskExecutorPreference`) so
    /// that it runs beside the session instead of hopping to it; nil when it has none (test doubles).
    var taskExecutor: (any TaskExecutor)? { get }
    /// Whether the caller runs on the thread that serves the session (a task that prefers its ``taskExecutor``):
    /// calls into the session then need no hop, and no preference needs setting.
    var isServedByCurrentThread: Bool { get }
    /// Runs one statement with bound parameters.
    func execute(
        _ sql: String,
        parameters: [Parameter],
        resultFormat: ValueFormat,
        deadline: ContinuousClock.Instant?
    ) async throws -> QueryResult
    /// Starts a statement without waiting and without a job of the session's, when the caller runs on the thread
    /// that serves the session, or elsewhere while that thread runs no job (unless the I/O threads are the global
    /// executor): sent, and its answer read as far as it has arrived, in one synchronous step in the caller's job. A
    /// statement `waiting` is completed with `LibPQConnection.completeWaiting(_:deadline:)` at once;
    /// `mustStartOnActor` means nothing was done, and the statement runs through
    /// ``execute(_:parameters:resultFormat:deadline:)`` (or, `prepared`,
    /// ``executePrepared(_:parameters:resultFormat:deadline:)``) as usual.
    ///
    /// A `waiting` statement is completed by the ``LibPQConnection`` that sent it (`PendingStatement.session`),
    /// called directly: through the protocol, the call would cost every statement that waits the frame of a witness
    /// of its own. Sessions without a thread of their own take the default implementation, which does nothing
    /// (`mustStartOnActor`).
    func startInPlace(
        _ sql: String,
        parameters: [Parameter],
        resultFormat: ValueFormat,
        prepared: Bool
    ) throws -> LibPQConnection.StatementStart
    /// Runs one statement as a named prepared statement cached by the session, prepared on first use.
    ///
    /// The default implementation runs it as ``execute(_:parameters:resultFormat:deadline:)`` does.
    func executePrepared(
        _ sql: String,
        parameters: [Parameter],
        resultFormat: ValueFormat,
        deadline: ContinuousClock.Instant?
    ) async throws -> QueryResult
    /// Runs statements as one transaction and returns their results in order; a failure names its statement in
    /// `TransportError.statementIndex`.
    ///
    /// ``LibPQConnection`` sends them in one round trip (pipeline mode). The default implementation runs them one
    /// by one; see the extension below.
    func executeBatch(
        _ statements: [BatchStatement],
        resultFormat: ValueFormat,
        deadline: ContinuousClock.Instant?
    ) async throws -> [QueryResult]
    /// Runs `statement` as the last statement of the open transaction block, then commits the block; a failure
    /// after `COMMIT` may have been sent has phase `commitInFlight`, and the statement's own failure phase `sent`.
    ///
    /// ``LibPQConnection`` sends both in one round trip (pipeline mode); the default implementation sends them one
    /// after the other.
    func executeThenCommit(_ statement: BatchStatement, deadline: ContinuousClock.Instant?) async throws
    /// Whether the session is usable and outside any transaction block after its last statement.
    ///
    /// Read by the pool when the session comes back, from any thread and without waiting: an implementation keeps
    /// it up to date as its statements end (``LibPQConnection`` publishes it in an atomic).
    var isReadyForReuse: Bool { get }
    /// Whether the server reported being a hot standby, or nil if it did not say.
    func reportsHotStandby() async -> Bool?
    /// Undoes what app code may have left on the session (settings, role, advisory locks, temporary tables,
    /// `LISTEN`, open cursors; with `deallocatingPreparedStatements`, every named prepared statement too), so that
    /// the next operation finds it as a new session. Called only outside a transaction block; a session whose reset
    /// fails is closed.
    func resetSession(deallocatingPreparedStatements: Bool, deadline: ContinuousClock.Instant?) async throws
    /// Closes the session.
    func close() async
    /// Sends a statement whose rows are then read in batches with ``nextRows(maximumCount:deadline:)``; the
    /// session is busy with it until that returns nil or throws, or ``stopStreaming()`` stops it.
    func startRows(
        _ sql: String,
        parameters: [Parameter],
        resultFormat: ValueFormat,
        deadline: ContinuousClock.Instant?
    ) async throws
    /// The next rows of the streamed statement, as results; nil after the last.
    func nextRows(maximumCount: Int, deadline: ContinuousClock.Instant?) async throws -> [QueryResult]?
    /// Sends a `COPY ... FROM STDIN` and waits for the server to accept data.
    func startCopyIn(_ sql: String, parameters: [Parameter], deadline: ContinuousClock.Instant?) async throws
    /// Sends one chunk of COPY data.
    func putCopyData(_ chunk: [UInt8], deadline: ContinuousClock.Instant?) async throws
    /// Ends the COPY data and returns the server's answer (`COPY n`).
    func endCopyIn(deadline: ContinuousClock.Instant?) async throws -> QueryResult
    /// Sends a `COPY ... TO STDOUT` and waits for its data to start.
    func startCopyOut(_ sql: String, parameters: [Parameter], deadline: ContinuousClock.Instant?) async throws
    /// The next chunk of COPY TO STDOUT data; nil after the last.
    func nextCopyData(deadline: ContinuousClock.Instant?) async throws -> [UInt8]?
    /// Stops a streamed statement (rows, COPY) early and leaves the session idle, or closes it; never throws.
    func stopStreaming() async
}

extension DatabaseConnection {
    package var taskExecutor: (any TaskExecutor)? { nil }

    package var isServedByCurrentThread: Bool { false }

    package func startInPlace(
        _ sql: String,
        parameters: [Parameter],
        resultFormat: ValueFormat,
        prepared: Bool
    ) throws -> LibPQConnection.StatementStart {
        .mustStartOnActor
    }

    package func executePrepared(
        _ sql: String,
        parameters: [Parameter],
        resultFormat: ValueFormat,
        deadline: ContinuousClock.Instant?
    ) async throws -> QueryResult {
        try await execute(sql, parameters: parameters, resultFormat: resultFormat, deadline: deadline)
    }

    /// Runs the statements one by one, one round trip each, between `BEGIN` and `COMMIT`, for connections that do
    /// not pipeline (test doubles).
    ///
    /// The outcome is the same as a pipelined batch's: all statements commit, or none (the first failure rolls
    /// back the rest and is thrown with its ``TransportError/statementIndex``); a session already inside a
    /// transaction block (not ready for reuse) runs them in that block, without `BEGIN` and `COMMIT`. What differs
    /// is the traffic: `BEGIN`, each statement and `COMMIT` are separate statements, so a double sees them one by one,
    /// and a failure of the `COMMIT` has phase `commitInFlight` and no statement index.
    package func executeBatch(
        _ statements: [BatchStatement],
        resultFormat: ValueFormat,
        deadline: ContinuousClock.Instant?
    ) async throws -> [QueryResult] {
        guard !statements.isEmpty else { return [] }
        let opensBlock = isReadyForReuse
        if opensBlock {
            _ = try await execute("BEGIN", parameters: [], resultFormat: .text, deadline: deadline)
        }
        var results: [QueryResult] = []
        results.reserveCapacity(statements.count)
        for (index, statement) in statements.enumerated() {
            do {
                results.append(try await execute(
                    statement.sql, parameters: statement.parameters, resultFormat: resultFormat, deadline: deadline
                ))
            } catch var error as TransportError {
                error.statementIndex = index
                if opensBlock, error.isConnectionUsable {
                    _ = try? await execute("ROLLBACK", parameters: [], resultFormat: .text, deadline: deadline)
                }
                throw error
            }
        }
        if opensBlock {
            _ = try await execute("COMMIT", parameters: [], resultFormat: .text, deadline: deadline)
        }
        return results
    }
}

/// Opens sessions for the pool.
package protocol DatabaseConnector: Sendable {
    /// Opens one session before `deadline`; throws `TransportError` facts on failure.
    func connect(deadline: ContinuousClock.Instant) async throws -> any DatabaseConnection
    /// Opens one session before `deadline` that signs in with `credential` instead of the configured password (and
    /// user, if it names one).
    ///
    /// The default implementation ignores the credential, for connectors that sign in with none (test doubles).
    func connect(
        deadline: ContinuousClock.Instant,
        signingInWith credential: Credential
    ) async throws -> any DatabaseConnection
}

extension DatabaseConnector {
    package func connect(
        deadline: ContinuousClock.Instant,
        signingInWith credential: Credential
    ) async throws -> any DatabaseConnection {
        try await connect(deadline: deadline)
    }
}

/// A session's process on its server: its pid, and the client port the server sees for it, which together name it
/// even after the pid has been reused.
package struct ServerProcess: Sendable, Hashable {
    package var host: String?
    package var port: Int?
    package var pid: Int32
    package var clientPort: Int?

    package init(host: String?, port: Int?, pid: Int32, clientPort: Int?) {
        self.host = host
        self.port = port
        self.pid = pid
        self.clientPort = clientPort
    }
}

extension LibPQConnection: DatabaseConnection {
    package nonisolated var serverProcess: ServerProcess? {
        ServerProcess(host: host, port: port, pid: backendPID, clientPort: localPort)
    }

    package nonisolated var taskExecutor: (any TaskExecutor)? { ioThread.taskExecutor }

    package nonisolated var isServedByCurrentThread: Bool { ioThread.isCurrent }

    /// A session whose cancel request is still being sent stays reusable: its next statement waits until the request
    /// has been delivered, which costs about one round trip, less than opening a new session, and protects the
    /// statements of one lease as well.
    package nonisolated var isReadyForReuse: Bool {
        isIdleOutsideTransaction
    }

    package func reportsHotStandby() async -> Bool? {
        inHotStandby
    }

    package func resetSession(deallocatingPreparedStatements: Bool, deadline: ContinuousClock.Instant?) async throws {
        try await resetSessionState(deallocatingPreparedStatements: deallocatingPreparedStatements, deadline: deadline)
    }
}

/// Opens libpq sessions with the client's connection parameters.
package struct LibPQConnector: DatabaseConnector {
    var parameters: ConnectionParameters
    var connectTimeout: Duration
    var options: LibPQConnection.Options

    package init(parameters: ConnectionParameters, connectTimeout: Duration, options: LibPQConnection.Options) {
        self.parameters = parameters
        self.connectTimeout = connectTimeout
        self.options = options
    }

    package func connect(deadline: ContinuousClock.Instant) async throws -> any DatabaseConnection {
        let deadline = min(deadline, .now.advanced(by: connectTimeout))
        return try await LibPQConnection.connect(parameters, deadline: deadline, options: options)
    }

    package func connect(
        deadline: ContinuousClock.Instant,
        signingInWith credential: Credential
    ) async throws -> any DatabaseConnection {
        var signedIn = self
        signedIn.parameters["password"] = credential.password
        if let user = credential.user { signedIn.parameters["user"] = user }
        return try await signedIn.connect(deadline: deadline)
    }
}
