extension FailureFacts {
    /// The class of this failure: what went wrong, independent of what the operation allows.
    ///
    /// Read in this order: the connection layer's own ``Kind`` (a credential provider's failure among them); a
    /// connect whose host names never existed (``hostNameNeverResolved``, ``ErrorClass/hostNotFound``); a DETAIL
    /// saying the transaction already committed locally (``ErrorClass/outcomeUnknown``); the SQLSTATE of an error (a
    /// class such as 08 or 53 covers all its codes); pgbouncer's and libpq's messages; then a notice's SQLSTATE or a
    /// lost connection (``ErrorClass/serverWentAway``). Anything else is ``ErrorClass/permanent``.
    public var errorClass: ErrorClass {
        switch kind.value {
        case .cancelled: return .cancelled
        case .deadlineExpired: return .deadline
        case .connectDeadlineExpired: return .unreachable
        case .commitRolledBack, .invalidParameter, .credentialRefused: return .permanent
        case .credentialUnavailable: return .credentialUnavailable
        case .reported: break
        }
        if hostNameNeverResolved && phase == .connecting { return .hostNotFound }
        if committedLocally { return .outcomeUnknown }

        let text = message.lowercased()
        if let sqlState, severity?.isError ?? true, let errorClass = errorClass(of: sqlState, message: text) {
            return errorClass
        }
        if sqlState == nil || sqlState == .protocolViolation, let errorClass = Self.pgbouncerClass(of: text) {
            return errorClass
        }
        if let errorClass = Self.libpqClass(of: text, phase: phase) {
            return errorClass
        }
        if !isConnectionUsable && phase != .connecting && (sqlState == nil || severity?.isError == false) {
            return .serverWentAway
        }
        return .permanent
    }

    /// Whether the statement or transaction may have taken effect on the server despite the failure.
    ///
    /// `false` when nothing reached the server, or when the server answered with an error (an `ERROR` rolls back the
    /// statement, a `FATAL` the whole session's work: the server holds off a termination while it commits, and one
    /// that comes after the commit follows the `COMMIT`'s own answer, which the connection then reports as success).
    /// `true` when the request was sent and no answer says what
    /// happened: a connection lost with no SQLSTATE or only a notice's, a pgbouncer `server conn crashed?` (but not
    /// pgbouncer's own refusals, such as `server login has been failing`), 08007, 40003, or a DETAIL saying the
    /// transaction already committed locally.
    ///
    /// Also `true` whenever ``earlierWorkMayHaveTakenEffect``: the facts then describe an operation part of which
    /// may already be applied.
    public var mayHaveBeenApplied: Bool {
        if committedLocally || earlierWorkMayHaveTakenEffect { return true }
        guard phase.mayHaveReachedServer else { return false }
        switch kind.value {
        case .commitRolledBack, .invalidParameter, .credentialUnavailable, .credentialRefused: return false
        case .reported, .cancelled, .deadlineExpired, .connectDeadlineExpired: break
        }
        guard let sqlState, let severity, severity == .error || severity == .fatal else { return true }
        switch sqlState {
        case .statementCompletionUnknown: return true
        case .protocolViolation:
            // pgbouncer answers its own refusals (pool limits, query_wait_timeout, a server it cannot log in to)
            // without passing the statement on; `server conn crashed?`, or a message it is not known to send, may
            // come after the statement reached the server.
            let pgbouncerClass = Self.pgbouncerClass(of: message.lowercased())
            return pgbouncerClass == nil || pgbouncerClass == .serverWentAway
        case SQLState.Class.connectionException: return true
        default: return false
        }
    }

    /// Whether DETAIL reports the sync-replication case where COMMIT was durable locally but not acknowledged.
    private var committedLocally: Bool {
        detail?.lowercased().contains("already committed locally") ?? false
    }

    /// The class of an error's SQLSTATE, or `nil` when the code alone does not settle it.
    private func errorClass(of state: SQLState, message: String) -> ErrorClass? {
        switch state {
        case .queryCanceled:
            return message.contains("statement timeout") ? .deadline : .cancelled
        case .cannotConnectNow:
            return .serverUnavailable
        case .adminShutdown, .crashShutdown, .databaseDropped, .idleSessionTimeout, .idleInTransactionSessionTimeout:
            return .serverWentAway
        case SQLState.Class.insufficientResources:
            return .resourceLimit
        case .serializationFailure, .deadlockDetected, .lockNotAvailable:
            return .transactionConflict
        case .statementCompletionUnknown, .transactionResolutionUnknown:
            return .outcomeUnknown
        case .featureNotSupported:
            return message.contains("cached plan") && isCachedStatement ? .staleStatement : .permanent
        case .invalidSQLStatementName:
            // The client's own named statement is gone (DEALLOCATE ALL, DISCARD ALL): nothing ran, and preparing it
            // again fixes it. An app's own `EXECUTE` of a name that does not exist is a mistake that no retry fixes.
            return isCachedStatement ? .staleStatement : .permanent
        case .protocolViolation:
            return nil
        case .readOnlySQLTransaction:
            // A hot standby's answer only when the session says so; on a primary the same code comes from
            // default_transaction_read_only, and reconnecting cannot help.
            return inHotStandby == true ? .readOnlyHost : .permanent
        case .sqlclientUnableToEstablishSQLConnection:
            return .unreachable
        case .connectionExceptionGeneric, .connectionDoesNotExist, .connectionFailure:
            return .serverWentAway
        default:
            // Authentication (28), missing database (3D000), SQL (42), data (22), constraints (23), and every code
            // not known to be transient: fail closed.
            return .permanent
        }
    }
}
