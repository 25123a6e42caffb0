// Names follow PostgreSQL's errcodes table (Appendix A of the manual).

extension SQLState {
    // MARK: Classes

    /// Class 08: the connection failed or was refused; the session is gone or never existed.
    public static let connectionException: SQLState = "08"
    /// Class 22: a value was invalid for its type or operation. Permanent.
    public static let dataException: SQLState = "22"
    /// Class 23: a constraint rejected the row. Permanent.
    public static let integrityConstraintViolation: SQLState = "23"
    /// Class 28: authentication or authorization failed. Permanent.
    public static let invalidAuthorizationSpecification: SQLState = "28"
    /// Class 40: the server rolled the transaction back.
    public static let transactionRollback: SQLState = "40"
    /// Class 42: the statement is wrong (syntax, missing object, privilege). Permanent.
    public static let syntaxErrorOrAccessRuleViolation: SQLState = "42"
    /// Class 53: the server ran out of something (connections, memory, disk).
    public static let insufficientResources: SQLState = "53"
    /// Class 57: an operator or the server itself intervened (shutdown, cancel, restart).
    public static let operatorIntervention: SQLState = "57"

    // MARK: Connection exceptions

    /// 08000: a connection exception with no finer code.
    public static let connectionExceptionGeneric: SQLState = "08000"
    /// 08001: the client could not establish the connection.
    public static let sqlclientUnableToEstablishSQLConnection: SQLState = "08001"
    /// 08003: the connection does not exist.
    public static let connectionDoesNotExist: SQLState = "08003"
    /// 08006: the connection failed.
    public static let connectionFailure: SQLState = "08006"
    /// 08007: the connection was lost while the transaction was being resolved; it may or may not have committed.
    public static let transactionResolutionUnknown: SQLState = "08007"
    /// 08P01: a protocol violation. pgbouncer sends almost all of its own errors with this code.
    public static let protocolViolation: SQLState = "08P01"

    // MARK: Statement and transaction

    /// 0A000: a feature is not supported; also `cached plan must not change result type`.
    public static let featureNotSupported: SQLState = "0A000"
    /// 25006: a write in a read-only transaction (a hot standby, or `default_transaction_read_only`).
    public static let readOnlySQLTransaction: SQLState = "25006"
    /// 25P03: the session sat idle inside a transaction too long and was closed.
    public static let idleInTransactionSessionTimeout: SQLState = "25P03"
    /// 26000: the named prepared statement does not exist.
    public static let invalidSQLStatementName: SQLState = "26000"
    /// 28000: the server's host-based rules reject this connection.
    public static let invalidAuthorization: SQLState = "28000"
    /// 28P01: the password was wrong or the role does not exist.
    public static let invalidPassword: SQLState = "28P01"
    /// 3D000: the database does not exist.
    public static let invalidCatalogName: SQLState = "3D000"
    /// 40001: a serialization failure, or a query cancelled by a recovery conflict on a standby.
    public static let serializationFailure: SQLState = "40001"
    /// 40003: the statement's completion is unknown.
    public static let statementCompletionUnknown: SQLState = "40003"
    /// 40P01: a deadlock was detected and this transaction was chosen to abort.
    public static let deadlockDetected: SQLState = "40P01"
    /// 42P05: a prepared statement with this name already exists.
    public static let duplicatePreparedStatement: SQLState = "42P05"
    /// 55P03: a lock could not be taken within `lock_timeout` (or `NOWAIT`).
    public static let lockNotAvailable: SQLState = "55P03"

    // MARK: Resources and operator intervention

    /// 53300: too many connections (server-wide, reserved slots, or per role).
    public static let tooManyConnections: SQLState = "53300"
    /// 57014: the statement was cancelled, by `statement_timeout` or by a cancel request.
    public static let queryCanceled: SQLState = "57014"
    /// 57P01: the backend was terminated (administrator command or fast shutdown).
    public static let adminShutdown: SQLState = "57P01"
    /// 57P02: the server is resetting because another backend crashed.
    public static let crashShutdown: SQLState = "57P02"
    /// 57P03: the server is starting, shutting down, or in recovery and accepts no connections now.
    public static let cannotConnectNow: SQLState = "57P03"
    /// 57P04: the database was dropped (seen as a recovery conflict on a standby).
    public static let databaseDropped: SQLState = "57P04"
    /// 57P05: the session sat idle longer than `idle_session_timeout` and was closed.
    public static let idleSessionTimeout: SQLState = "57P05"
}
