import PostgresPolicy
import Testing

/// One row of the fault catalogue: what the connection reported, its class, and the decision per situation.
struct Fault: Sendable, CustomTestStringConvertible {
    let name: String
    let sqlState: SQLState?
    let severity: FailureFacts.Severity?
    let message: String
    let detail: String?
    /// The phase the fault happens in, or `nil` when it follows the operation (a failure mid-statement).
    let phase: FailureFacts.Phase?
    let isConnectionUsable: Bool
    let kind: FailureFacts.Kind
    let inHotStandby: Bool?
    let isCachedStatement: Bool
    let errorClass: ErrorClass
    let expected: Expectations

    init(
        _ name: String,
        _ sqlState: SQLState? = nil,
        _ severity: FailureFacts.Severity? = nil,
        _ message: String = "",
        detail: String? = nil,
        phase: FailureFacts.Phase? = nil,
        usable: Bool,
        kind: FailureFacts.Kind = .reported,
        inHotStandby: Bool? = nil,
        cached isCachedStatement: Bool = false,
        class errorClass: ErrorClass,
        _ expected: Expectations
    ) {
        self.name = name
        self.sqlState = sqlState
        self.severity = severity
        self.message = message
        self.detail = detail
        self.phase = phase
        self.isConnectionUsable = usable
        self.kind = kind
        self.inHotStandby = inHotStandby
        self.isCachedStatement = isCachedStatement
        self.errorClass = errorClass
        self.expected = expected
    }

    func facts(in situation: Situation) -> FailureFacts {
        FailureFacts(
            sqlState: sqlState,
            severity: severity,
            message: message,
            detail: detail,
            phase: phase ?? situation.phase,
            isConnectionUsable: isConnectionUsable,
            kind: kind,
            inHotStandby: inHotStandby,
            isCachedStatement: isCachedStatement
        )
    }

    var testDescription: String { name }
}

extension Fault {
    static let closedUnexpectedly = """
        server closed the connection unexpectedly
        \tThis probably means the server terminated abnormally
        \tbefore or while processing the request.
        """

    /// FAULTS.md's catalogue, one row per fault (a row with several messages has one entry per message).
    static let catalogue: [Fault] = [
        Fault("server down", nil, nil, #"connection to server at "127.0.0.1", port 5433 failed: Connection refused"#,
              phase: .connecting, usable: false, class: .unreachable, .all(.backOff)),
        Fault("DNS failure", nil, nil, #"could not translate host name "x" to address: Name or service not known"#,
              phase: .connecting, usable: false, class: .unreachable, .all(.backOff)),
        Fault("silent peer on connect", nil, nil, "timeout expired",
              phase: .connecting, usable: false, class: .unreachable, .all(.backOff)),
        Fault("silent peer, library connect deadline", nil, nil, "connect deadline expired",
              phase: .connecting, usable: false, kind: .connectDeadlineExpired, class: .unreachable, .all(.backOff)),
        Fault("backend terminated (idle), next query", .adminShutdown, .fatal,
              "terminating connection due to administrator command",
              usable: false, class: .serverWentAway, .all(.reconnectAtOnce)),
        Fault("pg_ctl stop -m fast mid-query", .adminShutdown, .fatal,
              "terminating connection due to administrator command",
              usable: false, class: .serverWentAway, .all(.reconnectAtOnce)),
        Fault("smart shutdown pending", .cannotConnectNow, .fatal, "the database system is shutting down",
              phase: .connecting, usable: false, class: .serverUnavailable, .all(.backOff)),
        Fault("pg_ctl stop -m immediate", .adminShutdown, .warning, closedUnexpectedly,
              usable: false, class: .serverWentAway, .lostInFlight),
        Fault("another backend crashed", .crashShutdown, .warning, closedUnexpectedly,
              usable: false, class: .serverWentAway, .lostInFlight),
        Fault("another backend crashed, over TLS", .crashShutdown, .warning, "SSL SYSCALL error: EOF detected",
              usable: false, class: .serverWentAway, .lostInFlight),
        Fault("connection slots full", .tooManyConnections, .fatal, "sorry, too many clients already",
              phase: .connecting, usable: false, class: .resourceLimit, .all(.backOff)),
        Fault("connection slots full, reserved", .tooManyConnections, .fatal,
              "remaining connection slots are reserved for non-replication superuser connections",
              phase: .connecting, usable: false, class: .resourceLimit, .all(.backOff)),
        Fault("connection slots full, role limit", .tooManyConnections, .fatal, #"too many connections for role "app""#,
              phase: .connecting, usable: false, class: .resourceLimit, .all(.backOff)),
        Fault("crash recovery", .cannotConnectNow, .fatal, "the database system is in recovery mode",
              phase: .connecting, usable: false, class: .serverUnavailable, .all(.backOff)),
        Fault("startup", .cannotConnectNow, .fatal, "the database system is not yet accepting connections",
              phase: .connecting, usable: false, class: .serverUnavailable, .all(.backOff)),
        Fault("read-write target on a standby", nil, nil,
              #"connection to server at "127.0.0.1", port 5433 failed: session is read-only"#,
              phase: .connecting, usable: false, class: .readOnlyHost, .all(.reconnectAtOnce)),
        Fault("primary target on a standby", nil, nil,
              #"connection to server at "127.0.0.1", port 5433 failed: server is in hot standby mode"#,
              phase: .connecting, usable: false, class: .readOnlyHost, .all(.reconnectAtOnce)),
        Fault("write on hot standby", .readOnlySQLTransaction, .error,
              "cannot execute INSERT in a read-only transaction",
              usable: true, inHotStandby: true, class: .readOnlyHost, .all(.reconnectAtOnce)),
        Fault("read-only transaction on a primary", .readOnlySQLTransaction, .error,
              "cannot execute INSERT in a read-only transaction",
              usable: true, inHotStandby: false, class: .permanent, .all(.fail(.permanent))),
        Fault("read-only transaction, standby status unknown", .readOnlySQLTransaction, .error,
              "cannot execute INSERT in a read-only transaction",
              usable: true, class: .permanent, .all(.fail(.permanent))),
        Fault("recovery conflict on standby", .serializationFailure, .error,
              "canceling statement due to conflict with recovery",
              usable: true, class: .transactionConflict, .all(.sameConnection)),
        Fault("recovery conflict, database dropped", .databaseDropped, .fatal,
              "terminating connection due to conflict with recovery",
              usable: false, class: .serverWentAway, .all(.reconnectAtOnce)),
        Fault("serialization failure", .serializationFailure, .error,
              "could not serialize access due to read/write dependencies among transactions",
              usable: true, class: .transactionConflict, .all(.sameConnection)),
        Fault("deadlock", .deadlockDetected, .error, "deadlock detected",
              usable: true, class: .transactionConflict, .all(.sameConnection)),
        Fault("statement timeout", .queryCanceled, .error, "canceling statement due to statement timeout",
              usable: true, class: .deadline, .all(.fail(.timedOut))),
        Fault("cancel request", .queryCanceled, .error, "canceling statement due to user request",
              usable: true, class: .cancelled, .all(.fail(.cancelled))),
        Fault("caller cancellation", .queryCanceled, .error, "canceling statement due to user request",
              usable: true, kind: .cancelled, class: .cancelled, .all(.fail(.cancelled))),
        Fault("lock timeout", .lockNotAvailable, .error, "canceling statement due to lock timeout",
              usable: true, class: .transactionConflict, .all(.sameConnection)),
        Fault("idle-in-transaction timeout", .idleInTransactionSessionTimeout, .fatal,
              "terminating connection due to idle-in-transaction timeout",
              usable: false, class: .serverWentAway, .all(.reconnectAtOnce)),
        Fault("idle-session timeout", .idleSessionTimeout, .fatal, "terminating connection due to idle-session timeout",
              usable: false, class: .serverWentAway, .all(.reconnectAtOnce)),
        Fault("wrong password", .invalidPassword, .fatal, #"password authentication failed for user "app""#,
              phase: .connecting, usable: false, class: .permanent, .all(.fail(.permanent))),
        Fault("pg_hba reject", .invalidAuthorization, .fatal,
              #"pg_hba.conf rejects connection for host "127.0.0.1", user "rejectme", database "postgres""#,
              phase: .connecting, usable: false, class: .permanent, .all(.fail(.permanent))),
        Fault("pg_hba no entry", .invalidAuthorization, .fatal,
              #"no pg_hba.conf entry for host "127.0.0.1", user "app", database "postgres", no encryption"#,
              phase: .connecting, usable: false, class: .permanent, .all(.fail(.permanent))),
        Fault("database missing", .invalidCatalogName, .fatal, #"database "nodb" does not exist"#,
              phase: .connecting, usable: false, class: .permanent, .all(.fail(.permanent))),
        Fault("TLS required, server has none", nil, nil, "server does not support SSL, but SSL was required",
              phase: .connecting, usable: false, class: .permanent, .all(.fail(.permanent))),
        Fault("bad certificate", nil, nil, "SSL error: certificate verify failed",
              phase: .connecting, usable: false, class: .permanent, .all(.fail(.permanent))),
        Fault("certificate for another host", nil, nil, #"server certificate for "x" does not match host name "y""#,
              phase: .connecting, usable: false, class: .permanent, .all(.fail(.permanent))),
        Fault("root certificate missing", nil, nil,
              #"root certificate file "/nonexistent/root.crt" does not exist"#,
              phase: .connecting, usable: false, class: .permanent, .all(.fail(.permanent))),
        Fault("no TLS version both sides accept", nil, nil, "SSL error: tlsv1 alert protocol version",
              phase: .connecting, usable: false, class: .permanent, .all(.fail(.permanent))),
        Fault("no TLS version both sides accept, server side", nil, nil, "SSL error: unsupported protocol",
              phase: .connecting, usable: false, class: .permanent, .all(.fail(.permanent))),
        Fault("impossible TLS version range", nil, nil, "invalid SSL protocol version range",
              phase: .connecting, usable: false, class: .permanent, .all(.fail(.permanent))),
        Fault("connection lost under TLS", nil, nil, "SSL connection has been closed unexpectedly",
              usable: false, class: .serverWentAway, .lostInFlight),
        Fault("read-only target, every host read-write", nil, nil,
              #"connection to server at "127.0.0.1", port 5432 failed: session is not read-only"#,
              phase: .connecting, usable: false, class: .serverUnavailable, .all(.backOff)),
        Fault("standby target, every host a primary", nil, nil,
              #"connection to server at "127.0.0.1", port 5432 failed: server is not in hot standby mode"#,
              phase: .connecting, usable: false, class: .serverUnavailable, .all(.backOff)),
        Fault("black hole", nil, nil, "could not receive data from server: Connection timed out",
              usable: false, class: .serverWentAway, .lostInFlight),
        Fault("hung peer", nil, nil, "operation deadline expired",
              usable: false, kind: .deadlineExpired, class: .deadline, .all(.fail(.timedOut))),
        Fault("cached plan after ALTER TABLE", .featureNotSupported, .error, "cached plan must not change result type",
              usable: true, cached: true, class: .staleStatement, .all(.sameConnectionAtOnce)),
        Fault("cached plan after ALTER TABLE, the app's own EXECUTE", .featureNotSupported, .error,
              "cached plan must not change result type",
              usable: true, class: .permanent, .all(.fail(.permanent))),
        Fault("the app's own EXECUTE of a missing statement", .invalidSQLStatementName, .error,
              #"prepared statement "nope" does not exist"#,
              usable: true, class: .permanent, .all(.fail(.permanent))),
        Fault("lost COMMIT under sync replication", .adminShutdown, .warning, closedUnexpectedly,
              detail: "The transaction has already committed locally, but might not have been replicated to the standby.",
              usable: false, class: .outcomeUnknown, .inDoubt),
        Fault("send on a dead connection", nil, nil, "no connection to the server",
              phase: .notSent, usable: false, class: .serverWentAway, .all(.reconnectAtOnce)),
        Fault("COMMIT answered ROLLBACK", nil, nil, "COMMIT was answered with ROLLBACK",
              phase: .commitInFlight, usable: true, kind: .commitRolledBack, class: .permanent, .all(.fail(.permanent))),
        Fault("NUL in a text parameter", nil, nil, "invalid byte sequence: 0x00",
              phase: .notSent, usable: true, kind: .invalidParameter, class: .permanent, .all(.fail(.permanent))),
    ]

    /// FAULTS.md's pgbouncer section.
    static let pgbouncer: [Fault] = [
        Fault("pgbouncer: no such database", .protocolViolation, .fatal, "no such database: nodb",
              phase: .connecting, usable: false, class: .permanent, .all(.fail(.permanent))),
        Fault("pgbouncer: SASL authentication failed", .protocolViolation, .fatal, "SASL authentication failed",
              phase: .connecting, usable: false, class: .permanent, .all(.fail(.permanent))),
        Fault("pgbouncer: relayed password failure", .protocolViolation, .fatal,
              #"password authentication failed for user "app""#,
              phase: .connecting, usable: false, class: .permanent, .all(.fail(.permanent))),
        Fault("pgbouncer: query_wait_timeout", .protocolViolation, .error, "query_wait_timeout",
              usable: false, class: .resourceLimit, .all(.backOff)),
        Fault("pgbouncer: max_client_conn", .protocolViolation, .fatal, "no more connections allowed (max_client_conn)",
              phase: .connecting, usable: false, class: .resourceLimit, .all(.backOff)),
        Fault("pgbouncer: server conn crashed", .protocolViolation, .fatal, "server conn crashed?",
              usable: false, class: .serverWentAway, .lostInFlight),
        Fault("pgbouncer: server login retry", .protocolViolation, .fatal,
              #"server login has been failing, cached error: password authentication failed for user "app" (server_login_retry)"#,
              phase: .connecting, usable: false, class: .serverUnavailable, .all(.backOff)),
        // After login, when the server went down: pgbouncer refuses the statement without passing it on.
        Fault("pgbouncer: server login retry, statement refused", .protocolViolation, .fatal,
              "server login has been failing, try again later (server_login_retry)",
              usable: false, class: .serverUnavailable, .all(.backOff)),
        Fault("pgbouncer: no more connections allowed, statement refused", .protocolViolation, .fatal,
              "no more connections allowed (max_client_conn)",
              usable: false, class: .resourceLimit, .all(.backOff)),
        Fault("pgbouncer: unknown 08P01 message", .protocolViolation, .error, "something pgbouncer never said",
              usable: true, class: .permanent, .all(.fail(.permanent))),
        Fault("pgbouncer: named statement exists", .duplicatePreparedStatement, .error,
              #"prepared statement "s1" already exists"#,
              usable: true, class: .permanent, .all(.fail(.permanent))),
        Fault("pgbouncer: named statement missing", .invalidSQLStatementName, .error,
              #"prepared statement "s1" does not exist"#,
              usable: true, cached: true, class: .staleStatement, .all(.sameConnectionAtOnce)),
    ]
}
