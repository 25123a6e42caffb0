// Names follow PostgreSQL's errcodes table (Appendix A of the manual).

extension SQLState {
    /// Named classes of codes: two-character ``SQLState`` values, each of which matches every code of its class
    /// as a pattern (`catch SQLState.Class.integrityConstraintViolation` catches 23505 and 23503 alike).
    ///
    /// Any other class is a two-character literal: `case "22":`, or `SQLState("P0")` at run time.
    public enum Class {
        /// Class 08: the connection failed or was refused; the session is gone or never existed.
        public static let connectionException: SQLState = "08"
        /// Class 22: a value was invalid for its type or operation. Permanent.
        public static let dataException: SQLState = "22"
        /// Class 23: a constraint rejected the row (unique, foreign key, not null, check, exclusion). Permanent.
        public static let integrityConstraintViolation: SQLState = "23"
        /// Class 25: the statement is not allowed in the transaction's state (read-only, aborted, idle timeout).
        public static let invalidTransactionState: SQLState = "25"
        /// Class 28: authentication or authorization failed. Permanent.
        public static let invalidAuthorizationSpecification: SQLState = "28"
        /// Class 40: the server rolled the transaction back (serialization failure, deadlock).
        public static let transactionRollback: SQLState = "40"
        /// Class 42: the statement is wrong (syntax, missing object, privilege). Permanent.
        public static let syntaxErrorOrAccessRuleViolation: SQLState = "42"
        /// Class 53: the server ran out of something (connections, memory, disk).
        public static let insufficientResources: SQLState = "53"
        /// Class 55: an object is not in the state the statement needs (a lock not available, an object in use).
        public static let objectNotInPrerequisiteState: SQLState = "55"
        /// Class 57: an operator or the server itself intervened (shutdown, cancel, restart).
        public static let operatorIntervention: SQLState = "57"
    }

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

    // MARK: Data and constraints

    /// 22001: a string is too long for its column (`character varying(n)`).
    public static let stringDataRightTruncation: SQLState = "22001"
    /// 22003: a number is out of range for its type.
    public static let numericValueOutOfRange: SQLState = "22003"
    /// 22012: division by zero.
    public static let divisionByZero: SQLState = "22012"
    /// 22P02: a value's text is invalid for its type (`invalid input syntax for type integer`).
    public static let invalidTextRepresentation: SQLState = "22P02"
    /// 23001: a `RESTRICT` foreign key forbids deleting or updating the referenced row.
    public static let restrictViolation: SQLState = "23001"
    /// 23502: a null value in a `NOT NULL` column.
    public static let notNullViolation: SQLState = "23502"
    /// 23503: a foreign key references no row, or a referenced row would be left without its referrers' target.
    public static let foreignKeyViolation: SQLState = "23503"
    /// 23505: a duplicate key in a unique index or constraint.
    public static let uniqueViolation: SQLState = "23505"
    /// 23514: a row fails a `CHECK` constraint.
    public static let checkViolation: SQLState = "23514"
    /// 23P01: a row conflicts with another under an exclusion constraint.
    public static let exclusionViolation: SQLState = "23P01"

    // MARK: Statement and transaction

    /// 0A000: a feature is not supported; also `cached plan must not change result type`.
    public static let featureNotSupported: SQLState = "0A000"
    /// 25006: a write in a read-only transaction (a hot standby, or `default_transaction_read_only`).
    public static let readOnlySQLTransaction: SQLState = "25006"
    /// 25P03: the session sat idle inside a transaction too long and was closed.
    public static let idleInTransactionSessionTimeout: SQLState = "25P03"
    /// 25P02: the transaction already failed; every statement is refused until `ROLLBACK`.
    public static let inFailedSQLTransaction: SQLState = "25P02"
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
    /// 42501: the role lacks a privilege the statement needs.
    public static let insufficientPrivilege: SQLState = "42501"
    /// 42601: a syntax error.
    public static let syntaxError: SQLState = "42601"
    /// 42703: a column does not exist.
    public static let undefinedColumn: SQLState = "42703"
    /// 42P01: a table or view does not exist.
    public static let undefinedTable: SQLState = "42P01"
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

// The names the classes had before they moved to `SQLState.Class`, kept for a release so that code using them gets a
// fix-it rather than an error.
extension SQLState {
    @available(*, deprecated, renamed: "Class.connectionException")
    public static var connectionException: SQLState { Class.connectionException }
    @available(*, deprecated, renamed: "Class.dataException")
    public static var dataException: SQLState { Class.dataException }
    @available(*, deprecated, renamed: "Class.integrityConstraintViolation")
    public static var integrityConstraintViolation: SQLState { Class.integrityConstraintViolation }
    @available(*, deprecated, renamed: "Class.invalidAuthorizationSpecification")
    public static var invalidAuthorizationSpecification: SQLState { Class.invalidAuthorizationSpecification }
    @available(*, deprecated, renamed: "Class.transactionRollback")
    public static var transactionRollback: SQLState { Class.transactionRollback }
    @available(*, deprecated, renamed: "Class.syntaxErrorOrAccessRuleViolation")
    public static var syntaxErrorOrAccessRuleViolation: SQLState { Class.syntaxErrorOrAccessRuleViolation }
    @available(*, deprecated, renamed: "Class.insufficientResources")
    public static var insufficientResources: SQLState { Class.insufficientResources }
    @available(*, deprecated, renamed: "Class.operatorIntervention")
    public static var operatorIntervention: SQLState { Class.operatorIntervention }
}
