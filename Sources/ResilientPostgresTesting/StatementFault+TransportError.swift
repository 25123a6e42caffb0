import PostgresPolicy
import PostgresTransport

extension StatementFault {
    /// libpq's text for a connection that closed without an answer.
    static let closedUnexpectedly = """
        server closed the connection unexpectedly
        \tThis probably means the server terminated abnormally
        \tbefore or while processing the request.
        """

    /// Whether the session is gone after the fault.
    var closesSession: Bool {
        switch kind {
        case .lostBeforeSend, .lostAfterSend: true
        case .server(_, _, let fatal): fatal
        case .readOnlyHost, .hang, .slow: false
        }
    }

    /// Whether the server may have run the statement before the fault: a fault-injecting connection runs it for
    /// real first (the worst case for the caller), then loses the answer.
    var leavesOutcomeUnknown: Bool {
        if case .lostAfterSend = kind { true } else { false }
    }

    /// The facts a libpq connection reports for this fault on `sql`; nil for the faults that only delay. A failure
    /// answered for the statement (an error, or libpq's report of a connection lost awaiting the answer) names it.
    package func transportError(for sql: String, host: String?, port: Int?) -> TransportError? {
        let phaseIfSent: TransportError.Phase = StatementText.isCommit(sql) ? .commitInFlight : .sent
        switch kind {
        case .lostBeforeSend:
            return TransportError(
                code: .connectionLost, message: "no connection to the server",
                host: host, port: port, phase: .notSent, isConnectionUsable: false
            )
        case .lostAfterSend(let notice, let detail):
            return TransportError(
                code: .connectionLost, sqlState: notice, sqlStateFromNotice: notice != nil,
                message: Self.closedUnexpectedly, detail: detail,
                host: host, port: port, phase: phaseIfSent, isConnectionUsable: false, statement: sql
            )
        case .server(let sqlState, let message, let fatal):
            return TransportError(
                code: .server, sqlState: sqlState, severity: fatal ? .fatal : .error, message: message,
                host: host, port: port, phase: phaseIfSent, isConnectionUsable: !fatal, statement: sql
            )
        case .readOnlyHost:
            return Self.readOnlyError(for: sql, host: host, port: port)
        case .hang, .slow:
            return nil
        }
    }

    /// ERROR 25006 for a statement that writes on a hot standby.
    package static func readOnlyError(for sql: String, host: String?, port: Int?) -> TransportError {
        let phaseIfSent: TransportError.Phase = StatementText.isCommit(sql) ? .commitInFlight : .sent
        return TransportError(
            code: .server, sqlState: .readOnlySQLTransaction, severity: .error,
            message: "cannot execute \(SQLKeyword.first(of: sql)) in a read-only transaction",
            host: host, port: port, phase: phaseIfSent, isConnectionUsable: true, statement: sql
        )
    }

    /// What libpq reports once the server answered the cancel request for a statement that did not answer.
    package static func cancelledError(for sql: String, byDeadline: Bool, host: String?, port: Int?) -> TransportError {
        TransportError(
            code: byDeadline ? .deadlineExceeded : .cancelled, sqlState: .queryCanceled, severity: .error,
            message: "canceling statement due to user request",
            host: host, port: port, phase: StatementText.isCommit(sql) ? .commitInFlight : .sent,
            isConnectionUsable: true, statement: sql
        )
    }
}

/// The first keyword of a statement, which is all a test double reads of its SQL.
enum SQLKeyword {
    /// The first word, uppercased (`INSERT`), or an empty string for an empty statement.
    static func first(of sql: String) -> String {
        let word = sql.drop { $0.isWhitespace || $0 == "(" }.prefix { $0.isLetter || $0 == "_" }
        return word.uppercased()
    }

    /// Whether a statement only reads or controls the session, so that a hot standby runs it.
    static func runsOnStandby(_ sql: String) -> Bool {
        ["", "SELECT", "SHOW", "WITH", "VALUES", "TABLE", "EXPLAIN", "BEGIN", "START", "COMMIT", "END", "ROLLBACK",
         "ABORT", "SET", "RESET", "DISCARD"].contains(first(of: sql))
    }
}
