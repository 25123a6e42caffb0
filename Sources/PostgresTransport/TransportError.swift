public import PostgresPolicy

/// A failure of one libpq connection, reported as facts: what the server or libpq said, where, and how far the
/// request had got.
///
/// The transport never decides whether a failure may be retried; it records what a retry policy needs to decide
/// safely: the SQLSTATE (from the error, the connect message, or a WARNING notice that came just before the
/// connection was lost), the ``Phase`` the request was in, and whether the connection can still be used.
///
/// The client throws it unchanged from the statements of a `transaction` or `withConnection` closure (so that the
/// client can decide, from these facts, whether to run the closure again) and from a connection string it cannot
/// parse; operations that give up throw `PostgresError`, whose `lastFailure` is one of these. Both match a
/// `SQLState` pattern the same way (`SQLStateReporting`): `catch SQLState.uniqueViolation`.
///
/// `description` is redacted: it never contains a password, a bound value, the statement, or a statement's error text
/// from the server (which can quote values, as in `invalid input syntax for type integer: "…"`). It does show why a
/// connect failed when that text names only the connection (`server does not support SSL, but SSL was required`,
/// `password authentication failed for user "app"`). `String(reflecting:)` shows every field.
public struct TransportError: Error, Sendable, SQLStateReporting {
    /// What kind of failure this is. Codes can be added without breaking a `switch` with a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case server
            case connectFailed
            case connectDeadlineExceeded
            case connectionLost
            case cancelled
            case deadlineExceeded
            case commitRolledBack
            case invalidParameter
            case invalidConnectionString
            case connectionClosed
            case connectionBusy
            case unsupportedResult
            case credentialUnavailable
        }

        private let base: Base

        /// The server answered the statement with an error; ``TransportError/sqlState`` says which.
        public static let server = Code(base: .server)
        /// libpq could not establish a session (refused, unreachable, rejected during authentication or startup).
        public static let connectFailed = Code(base: .connectFailed)
        /// The library's own connect deadline passed before a session was established.
        public static let connectDeadlineExceeded = Code(base: .connectDeadlineExceeded)
        /// The connection broke while the request was being sent or answered.
        public static let connectionLost = Code(base: .connectionLost)
        /// The caller's task was cancelled; a cancel request was sent to the server if the statement was running.
        public static let cancelled = Code(base: .cancelled)
        /// The statement's deadline passed; a cancel request was sent to the server.
        public static let deadlineExceeded = Code(base: .deadlineExceeded)
        /// `COMMIT` answered `ROLLBACK`: the transaction had already failed, and nothing of it was committed.
        public static let commitRolledBack = Code(base: .commitRolledBack)
        /// A parameter cannot be sent as given (a text parameter containing a NUL byte); nothing was sent.
        public static let invalidParameter = Code(base: .invalidParameter)
        /// The connection string or URL could not be parsed, or names an unknown option.
        public static let invalidConnectionString = Code(base: .invalidConnectionString)
        /// The connection was closed by ``LibPQConnection/close()`` or after an earlier unrecoverable failure.
        public static let connectionClosed = Code(base: .connectionClosed)
        /// Another statement is still running on this connection; one connection runs one statement at a time.
        public static let connectionBusy = Code(base: .connectionBusy)
        /// The statement produced a result the transport does not handle (`COPY`); the connection was closed.
        public static let unsupportedResult = Code(base: .unsupportedResult)
        /// No credential could be had for a new session: the app's credential provider failed (its error is
        /// ``TransportError/underlyingError``). Nothing was sent to the server.
        public static let credentialUnavailable = Code(base: .credentialUnavailable)

        public var description: String {
            switch base {
            case .server: "server error"
            case .connectFailed: "connect failed"
            case .connectDeadlineExceeded: "connect deadline exceeded"
            case .connectionLost: "connection lost"
            case .cancelled: "cancelled"
            case .deadlineExceeded: "statement deadline exceeded"
            case .commitRolledBack: "COMMIT answered ROLLBACK"
            case .invalidParameter: "invalid parameter"
            case .invalidConnectionString: "invalid connection string"
            case .connectionClosed: "connection closed"
            case .connectionBusy: "connection busy"
            case .unsupportedResult: "unsupported result"
            case .credentialUnavailable: "credential unavailable"
            }
        }
    }

    /// How far a request had got when it failed. This, more than anything, says whether retrying is safe.
    public typealias Phase = FailureFacts.Phase
    /// The severity the server attached to its message (`ERROR`, `FATAL`, `PANIC`, or `WARNING` for a notice).
    public typealias Severity = FailureFacts.Severity

    /// What kind of failure this is.
    public var code: Code
    /// The SQLSTATE, when the server sent one (in the error, the connect message or a notice).
    ///
    /// Compare it with a code (`error.sqlState == .uniqueViolation`, or a literal such as `"23505"`), or match a
    /// class (`case SQLState.Class.integrityConstraintViolation:`); `SQLState.code` is its text.
    public var sqlState: SQLState?
    /// True when ``sqlState`` was taken from a WARNING notice that preceded a lost connection (57P01 on an
    /// immediate shutdown, 57P02 when another backend crashed) rather than from an error.
    public var sqlStateFromNotice: Bool
    /// The non-localized severity (`ERROR`, `FATAL`, `PANIC`, or `WARNING` for a notice), when known.
    public var severity: Severity?
    /// The primary message: the server's, libpq's, or the transport's own.
    public var message: String
    /// The server's DETAIL, if any. It can quote data values.
    public var detail: String?
    /// The server's HINT, if any.
    public var hint: String?
    /// The 1-based character position in the statement that the error points at (syntax errors).
    public var position: Int?
    /// The host the connection was to (for a multi-host connect, the last one tried).
    public var host: String?
    /// The port the connection was to.
    public var port: Int?
    /// How far the request had got.
    public var phase: Phase
    /// Whether the connection can run another statement. False once the connection is broken or closed.
    public var isConnectionUsable: Bool
    /// The SQL of the statement the server's error (or libpq's, for a connection lost while it awaited its answer)
    /// answered, as it was sent: with `$1`, `$2`, ... for its parameters, whose values are never kept. In a batch,
    /// the statement at ``statementIndex``. `nil` when no answer came for a statement: a connect, a statement
    /// refused or lost while it was being sent, a connection closed while it waited (a cancel request left
    /// unanswered), a `COMMIT` that answered `ROLLBACK`, or a failure of a batch as a whole.
    ///
    /// Shown by `String(reflecting:)` only, never by `description`: SQL written by hand can hold literal values.
    public var statement: String?
    /// The position in a batch of the statement the failure belongs to (0 for the first), or nil for a single
    /// statement and for a failure of the batch as a whole (its implicit commit, or a lost connection between
    /// statements).
    public var statementIndex: Int?
    /// Whether the statement ran as a named statement this connection prepared and cached itself
    /// (``LibPQConnection/executePrepared(_:parameters:resultFormat:deadline:)``). A 26000 or a stale cached plan
    /// (0A000) then means the cache was out of date, and the statement has been forgotten so that it is prepared
    /// again; for any other statement the same codes are the caller's to fix.
    public var isCachedStatement = false
    /// Whether the error came after the server had answered the statement (a FATAL sent when the session was
    /// terminated right after it): it is the session ending, not the statement failing, and what the statement did
    /// may have been committed.
    public var cameAfterAnswer = false
    /// The host names a connect looked up that the resolver said do not exist (libpq's `could not translate host
    /// name "…" to address: Name or service not known`, getaddrinfo's `EAI_NONAME`), when that is why every host
    /// the connect tried failed; empty otherwise.
    ///
    /// A connect knows only its own lookups; a client that remembers which names resolved for it before empties
    /// this when one of them did, since a name that once existed is more likely a DNS change than a mistyped host.
    public var hostNamesNotFound: [String] = []
    /// The host names a connect found an address for (libpq named the address), even when connecting to it then
    /// failed.
    public var resolvedHostNames: [String] = []
    /// The error of another layer this failure stands for: with ``Code/credentialUnavailable``, the error the app's
    /// credential provider threw. Descriptions name only its type: its text is the app's, and may quote a token.
    public var underlyingError: (any Error)?

    /// Makes an error from its facts.
    public init(
        code: Code,
        sqlState: SQLState? = nil,
        sqlStateFromNotice: Bool = false,
        severity: Severity? = nil,
        message: String,
        detail: String? = nil,
        hint: String? = nil,
        position: Int? = nil,
        host: String? = nil,
        port: Int? = nil,
        phase: Phase,
        isConnectionUsable: Bool,
        statement: String? = nil,
        statementIndex: Int? = nil
    ) {
        self.code = code
        self.sqlState = sqlState
        self.sqlStateFromNotice = sqlStateFromNotice
        self.severity = severity
        self.message = message
        self.detail = detail
        self.hint = hint
        self.position = position
        self.host = host
        self.port = port
        self.phase = phase
        self.isConnectionUsable = isConnectionUsable
        self.statement = statement
        self.statementIndex = statementIndex
    }
}

extension TransportError: CustomStringConvertible, CustomDebugStringConvertible {
    /// A redacted summary: code, SQLSTATE, severity, endpoint, phase and usability, and the message of a failed
    /// connect when it cannot quote a value or a password (libpq's own text, and the server's refusal of the session
    /// for authentication, `pg_hba.conf`, a missing database, privileges, slots or its state); never the statement,
    /// a statement's error text from the server, a DETAIL, bound values or passwords. Use `String(reflecting:)` for
    /// every field.
    public var description: String {
        guard messageIsShown else { return summary + ")" }
        var text = summary + ", message: \(String(reflecting: Self.maskingOptionValues(message)))"
        // libpq's own advice ("Is the server running on that host and accepting TCP/IP connections?"), never the
        // server's HINT.
        if severity == nil, let hint { text += ", hint: \(String(reflecting: hint))" }
        return text + ")"
    }

    /// Every field, including the server's message, detail and hint and the statement, which can quote data values.
    public var debugDescription: String {
        var text = summary + ", message: \(String(reflecting: message))"
        if let detail { text += ", detail: \(String(reflecting: detail))" }
        if let hint { text += ", hint: \(String(reflecting: hint))" }
        if let position { text += ", position: \(position)" }
        if let statement { text += ", statement: \(String(reflecting: statement))" }
        // Its type only: the error is the app's, whose text may quote what it was given (a token, say).
        if let underlyingError { text += ", underlying error: \(type(of: underlyingError))" }
        return text + ")"
    }

    /// Whether ``description`` shows ``message``: only for a failed connect, whose message names what to fix, and
    /// only when it is text that cannot quote a value or a password.
    ///
    /// That is libpq's own text (`Connection refused`, `server does not support SSL, but SSL was required`,
    /// `could not translate host name "…" to address: …`, an option libpq refuses), the library's (a connect
    /// deadline), and the server's refusal of the session for a reason of its own configuration or state, which
    /// quotes at most the host, user and database names: authentication and `pg_hba.conf` (class 28), a missing
    /// database (3D000), no `CONNECT` privilege (42501), too many connections (class 53), starting up or shutting
    /// down (class 57), and pgbouncer's refusals (class 08). Not a connection string libpq could not parse (its
    /// message quotes the text), nor any other SQLSTATE during connect (22023 quotes an `options` value), nor any
    /// message once connected: a statement's error text can quote the values it was given.
    private var messageIsShown: Bool {
        guard phase == .connecting, code != .invalidConnectionString, !sqlStateFromNotice else { return false }
        guard severity != nil else { return true }
        guard let sqlState else { return false }
        switch sqlState {
        case .insufficientPrivilege, "3D", SQLState.Class.connectionException,
            SQLState.Class.invalidAuthorizationSpecification, SQLState.Class.insufficientResources,
            SQLState.Class.operatorIntervention:
            return true
        default:
            return false
        }
    }

    /// `message` with the value of an integer option libpq refused masked (`invalid integer value "…" for connection
    /// option "port"`): a password with an unescaped `/` in a URL is read as the port, and would be quoted there.
    static func maskingOptionValues(_ message: String) -> String {
        var masked = ""
        var rest = message[...]
        while let marker = rest.range(of: "invalid integer value \""),
            let close = rest[marker.upperBound...].firstIndex(of: "\"")
        {
            masked += rest[..<marker.upperBound] + "…\""
            rest = rest[rest.index(after: close)...]
        }
        return masked + rest
    }

    /// Every field that is always shown, without the closing parenthesis.
    private var summary: String {
        var text = "TransportError(\(code)"
        if let sqlState {
            text += ", sqlState: \(sqlState)\(sqlStateFromNotice ? " (from notice)" : "")"
        }
        if let severity { text += ", severity: \(severity)" }
        if let host { text += ", host: \(host)" }
        if let port { text += ", port: \(port)" }
        if let statementIndex { text += ", statement index: \(statementIndex)" }
        text += ", phase: \(phase), connection \(isConnectionUsable ? "usable" : "unusable")"
        return text
    }
}
