public import PostgresPolicy

/// How one statement goes wrong, in the terms of what happened to it.
///
/// Each fault is reported as libpq reports it (see FAULTS.md): the SQLSTATE, severity, message and notice the server
/// or libpq gives, how far the request had got, and whether the session survives. The client then decides exactly as
/// it would in production: ``connectionLostAfterSend`` leaves a write's outcome unknown, ``backendTerminated`` does
/// not (the server said it rolled back), ``serializationFailure`` re-runs a transaction block. Script them with
/// ``ScriptedDatabase/fail(_:with:times:)`` or inject them with ``FaultInjector/fail(_:with:times:)``.
public struct StatementFault: Sendable, Hashable, CustomStringConvertible {
    enum Kind: Sendable, Hashable {
        /// Nothing was sent: the session was already gone.
        case lostBeforeSend
        /// The request was sent and the connection closed with no answer; `notice` and `detail` came just before.
        case lostAfterSend(notice: SQLState?, detail: String?)
        /// The server answered with an error of this SQLSTATE; `fatal` closes the session.
        case server(sqlState: SQLState, message: String, fatal: Bool)
        /// 25006 on a hot standby, which the session then reports.
        case readOnlyHost
        /// No answer until the task is cancelled or the statement's deadline passes.
        case hang
        /// The answer comes after this long.
        case slow(Duration)
    }

    let kind: Kind
    let name: String

    private init(_ name: String, _ kind: Kind) {
        self.name = name
        self.kind = kind
    }

    /// The session was already gone when the statement was to be sent (`no connection to the server`): nothing
    /// reached the server, so any operation may be retried on a new session.
    public static let connectionLostBeforeSend = StatementFault("connection lost before send", .lostBeforeSend)

    /// The statement was sent and the connection closed before any answer (`server closed the connection
    /// unexpectedly`): the server may or may not have run it. An autocommit write or a `COMMIT` is then not retried
    /// (the error says it may have been applied) unless declared idempotent; a statement inside a transaction block
    /// re-runs the block, which the server rolled back.
    public static let connectionLostAfterSend = StatementFault(
        "connection lost after send", .lostAfterSend(notice: nil, detail: nil)
    )

    /// An immediate shutdown or a crash of another backend: a WARNING 57P01 notice, then the connection closed
    /// without an answer. As ``connectionLostAfterSend``, the outcome is unknown.
    public static let immediateShutdown = StatementFault(
        "immediate shutdown", .lostAfterSend(notice: "57P01", detail: nil)
    )

    /// A `COMMIT` under synchronous replication whose wait for the standby was interrupted: the notice's DETAIL says
    /// the transaction already committed locally, then the connection closed. The write *was* applied locally, but
    /// no answer says so: the outcome is unknown.
    public static let committedLocallyThenLost = StatementFault(
        "committed locally, then lost",
        .lostAfterSend(
            notice: "57P01",
            detail: "The transaction has already committed locally, but might not have been replicated to the standby."
        )
    )

    /// The session was terminated (`pg_terminate_backend`, a fast shutdown, a failover): FATAL 57P01
    /// `terminating connection due to administrator command`. The server rolled back whatever was running, so the
    /// operation is retried on a new session.
    public static let backendTerminated = StatementFault(
        "backend terminated",
        .server(sqlState: "57P01", message: "terminating connection due to administrator command", fatal: true)
    )

    /// A serialization failure: ERROR 40001. A transaction block runs again whole; the session stays usable.
    public static let serializationFailure = StatementFault(
        "serialization failure",
        .server(sqlState: "40001", message: "could not serialize access due to concurrent update", fatal: false)
    )

    /// A deadlock: ERROR 40P01. A transaction block runs again whole.
    public static let deadlockDetected = StatementFault(
        "deadlock detected", .server(sqlState: "40P01", message: "deadlock detected", fatal: false)
    )

    /// A lock timeout: ERROR 55P03. A transaction block runs again whole.
    public static let lockTimeout = StatementFault(
        "lock timeout", .server(sqlState: "55P03", message: "canceling statement due to lock timeout", fatal: false)
    )

    /// A statement timeout: ERROR 57014 `canceling statement due to statement timeout`. Never retried.
    public static let statementTimeout = StatementFault(
        "statement timeout",
        .server(sqlState: "57014", message: "canceling statement due to statement timeout", fatal: false)
    )

    /// A cached plan no longer fits the table (an `ALTER TABLE` ran): ERROR 0A000 `cached plan must not change
    /// result type`. Met by a statement the client cached itself
    /// (`PostgresClient.StatementCaching.prepared(capacity:)`), the client prepares it again and retries it at once
    /// on the same session; met by any other statement (an app's own `EXECUTE`), it is permanent.
    public static let cachedPlanChanged = StatementFault(
        "cached plan changed",
        .server(sqlState: "0A000", message: "cached plan must not change result type", fatal: false)
    )

    /// The session is on a hot standby (a failover moved the primary): ERROR 25006 `cannot execute ... in a read-only
    /// transaction`, and from then on the session reports `in_hot_standby` on. The client retires every session of
    /// the pool's epoch and runs the operation again on a new one.
    public static let readOnlyHost = StatementFault("read-only host", .readOnlyHost)

    /// ERROR 25006 on a primary (`default_transaction_read_only` is on): permanent, since reconnecting cannot help.
    public static let readOnlyTransaction = StatementFault(
        "read-only transaction",
        .server(sqlState: "25006", message: "cannot execute statement in a read-only transaction", fatal: false)
    )

    /// The server answers with an error of this SQLSTATE: an `ERROR` keeps the session, a `FATAL` (`fatal: true`)
    /// closes it. `23505` is a unique violation, `42P01` a missing table, `53300` too many connections, and so on.
    public static func sqlState(
        _ sqlState: SQLState,
        message: String = "scripted error",
        fatal: Bool = false
    ) -> StatementFault {
        precondition(!sqlState.isClass, "a SQLSTATE has five characters")
        return StatementFault(
            "\(fatal ? "FATAL" : "ERROR") \(sqlState)", .server(sqlState: sqlState, message: message, fatal: fatal)
        )
    }

    /// The server never answers (a hung peer): the statement waits until its task is cancelled (ERROR 57014 after
    /// the cancel request, session kept) or its deadline passes.
    public static let hang = StatementFault("hang", .hang)

    /// The answer comes, but only after `duration` on the clock (on a ``ScriptedDatabase``, its manual clock).
    public static func slow(_ duration: Duration) -> StatementFault {
        precondition(duration >= .zero, "a delay cannot be negative")
        return StatementFault("slow (\(duration))", .slow(duration))
    }

    /// The fault's name.
    public var description: String { name }
}
