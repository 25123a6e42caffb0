/// What is known about one failed attempt, as the connection layer observed it.
///
/// Facts only: no judgement about retrying. ``errorClass`` classifies them and ``RetryPolicy`` decides from them.
/// Fill in everything the connection saw, including a SQLSTATE that arrived only in a WARNING notice before the
/// connection dropped, and leave out what was not seen (`nil`) rather than guessing: unknown facts make the
/// decision more careful, never less.
public struct FailureFacts: Sendable, Hashable {
    /// The SQLSTATE from the error result, the connect message, or a notice that came with the failure.
    public var sqlState: SQLState?
    /// The severity of the message that carried ``sqlState``; a notice's (`WARNING`) means the server did not
    /// report an error for the statement itself.
    public var severity: Severity?
    /// The primary message, as libpq or the server gave it (for example `server closed the connection unexpectedly`).
    public var message: String
    /// The server's DETAIL field, if any.
    public var detail: String?
    /// How far the attempt got before it failed.
    public var phase: Phase
    /// Whether the connection can run another statement after this failure.
    public var isConnectionUsable: Bool
    /// Whether the failure came from the server or the network, or was made by the connection layer itself.
    public var kind: Kind
    /// Whether the session was on a hot standby (`in_hot_standby`), or `nil` when not known.
    public var inHotStandby: Bool?
    /// Whether the failing statement was a named statement the client prepared and cached on the session itself.
    ///
    /// Only then does 26000 (the statement does not exist) or 0A000 `cached plan must not change result type` mean
    /// that the cache is out of date (``ErrorClass/staleStatement``, prepared again and retried); the same codes for
    /// an app's own `EXECUTE` are its mistake (``ErrorClass/permanent``).
    public var isCachedStatement: Bool
    /// Whether something the operation sent before this failure may already have taken effect: an earlier
    /// statement of the same session that committed (in autocommit, or by a `COMMIT` the app sent itself), or one
    /// whose own outcome was unknown.
    ///
    /// Then the operation as a whole may have been applied, whatever this failure says about its own statement: a
    /// write is not repeated (``RetryDecision/Reason/outcomeUnknown``) unless the operation may be repeated.
    public var earlierWorkMayHaveTakenEffect: Bool
    /// Whether a connect failed only because no host name it tried exists (the resolver answered NXDOMAIN,
    /// getaddrinfo's `EAI_NONAME`), and none of those names ever resolved for this client.
    ///
    /// Then the failure is ``ErrorClass/hostNotFound``: almost always a mistyped host. Leave it `false` for a name
    /// that resolved before (DNS changes during a failover, but the name keeps existing), for a lookup that failed
    /// otherwise (a DNS timeout or server failure, `EAI_AGAIN`), and whenever it is not known.
    public var hostNameNeverResolved: Bool

    /// Creates the facts of one failed attempt.
    public init(
        sqlState: SQLState? = nil,
        severity: Severity? = nil,
        message: String = "",
        detail: String? = nil,
        phase: Phase,
        isConnectionUsable: Bool,
        kind: Kind = .reported,
        inHotStandby: Bool? = nil,
        isCachedStatement: Bool = false,
        earlierWorkMayHaveTakenEffect: Bool = false,
        hostNameNeverResolved: Bool = false
    ) {
        self.sqlState = sqlState
        self.severity = severity
        self.message = message
        self.detail = detail
        self.phase = phase
        self.isConnectionUsable = isConnectionUsable
        self.kind = kind
        self.inHotStandby = inHotStandby
        self.isCachedStatement = isCachedStatement
        self.earlierWorkMayHaveTakenEffect = earlierWorkMayHaveTakenEffect
        self.hostNameNeverResolved = hostNameNeverResolved
    }
}

extension FailureFacts {
    /// How far an attempt got before it failed, which bounds what the server may have done.
    ///
    /// The connection layer reports it on every failure (`TransportError.phase` is this type), and the policy
    /// decides from it: only ``sent`` and ``commitInFlight`` can leave a write's outcome unknown. New phases may be
    /// added; `switch` over them with a `default`.
    public struct Phase: Hashable, Sendable, CustomStringConvertible {
        enum Value: Hashable, Sendable {
            case connecting, notSent, sent, commitInFlight
        }

        let value: Value

        private init(_ value: Value) { self.value = value }

        /// Opening the connection (DNS, TCP, TLS, authentication), or setting the new session up before its first use;
        /// no statement of the operation existed on the server.
        public static let connecting = Phase(.connecting)
        /// Connected, but not one byte of the statement reached the socket.
        public static let notSent = Phase(.notSent)
        /// The statement was sent (or may have been, in part), so the server may have run it; inside a transaction
        /// block, a statement before `COMMIT`.
        public static let sent = Phase(.sent)
        /// `COMMIT` was sent and its answer had not arrived: the transaction may or may not have committed.
        public static let commitInFlight = Phase(.commitInFlight)

        /// Whether any part of the request may have reached the server.
        public var mayHaveReachedServer: Bool { value == .sent || value == .commitInFlight }

        /// The phase's name.
        public var description: String {
            switch value {
            case .connecting: "connecting"
            case .notSent: "not sent"
            case .sent: "sent"
            case .commitInFlight: "COMMIT in flight"
            }
        }
    }
}

extension FailureFacts {
    /// The severity PostgreSQL attached to a message (`ERROR`, `FATAL`, `WARNING`, ...).
    ///
    /// Tells an error the server reported for the statement (it did not take effect) apart from a notice that
    /// only preceded a dropped connection (the server said nothing about the statement). The connection layer
    /// reports it on errors and notices (`TransportError.severity` is this type). A literal such as `"FATAL"`
    /// makes one.
    public struct Severity: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
        /// The severity's text in uppercase, for example `FATAL`.
        public let name: String

        /// Creates a severity from the non-localized field (`PG_DIAG_SEVERITY_NONLOCALIZED`), or the localized one
        /// when the server omits it, as pgbouncer does.
        public init(_ name: String) {
            self.name = name.uppercased()
        }

        /// Creates a severity from a literal such as `"FATAL"`.
        public init(stringLiteral name: String) {
            self.init(name)
        }

        /// The statement failed; the session survives.
        public static let error = Severity("ERROR")
        /// The session ended; the server rolled back what it was doing.
        public static let fatal = Severity("FATAL")
        /// The whole server is restarting.
        public static let panic = Severity("PANIC")
        /// A warning notice: not an error by itself.
        public static let warning = Severity("WARNING")
        /// A notice: not an error by itself.
        public static let notice = Severity("NOTICE")

        /// Whether the server reported an error (`ERROR`, `FATAL`, `PANIC`) rather than a notice.
        public var isError: Bool { self == .error || self == .fatal || self == .panic }

        /// The severity's text.
        public var description: String { name }
    }
}

extension FailureFacts {
    /// Who made the failure: the server or network (``reported``), or the connection layer itself.
    ///
    /// A failure the connection layer makes is classified by its kind first, whatever the message says.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        enum Value: Hashable, Sendable {
            case reported, connectDeadlineExpired, deadlineExpired, cancelled, commitRolledBack, invalidParameter
            case credentialUnavailable, credentialRefused
        }

        let value: Value

        private init(_ value: Value) { self.value = value }

        /// Reported by the server or libpq; classified by SQLSTATE and message.
        public static let reported = Kind(.reported)
        /// The library's own connect deadline expired (libpq's non-blocking connect enforces none): unreachable.
        public static let connectDeadlineExpired = Kind(.connectDeadlineExpired)
        /// The operation's deadline expired and the statement was cancelled or the connection closed. Not retried.
        public static let deadlineExpired = Kind(.deadlineExpired)
        /// The caller cancelled the operation. Not retried.
        public static let cancelled = Kind(.cancelled)
        /// `COMMIT` was answered with the command tag `ROLLBACK`: the transaction had already failed and nothing
        /// was committed. Not retried: the block swallowed an earlier error and would likely do so again.
        public static let commitRolledBack = Kind(.commitRolledBack)
        /// A parameter could not be sent (for example a NUL byte in a text value). Permanent; nothing was sent.
        public static let invalidParameter = Kind(.invalidParameter)

        /// The app's credential provider failed in a way it marked transient (or did not mark): nothing was sent,
        /// and a later fetch may succeed. ``ErrorClass/credentialUnavailable``.
        public static let credentialUnavailable = Kind(.credentialUnavailable)
        /// The app's credential provider failed in a way it marked permanent: nothing was sent, and asking again
        /// cannot help. ``ErrorClass/permanent``.
        public static let credentialRefused = Kind(.credentialRefused)

        /// The kind's name.
        public var description: String {
            switch value {
            case .reported: "reported"
            case .connectDeadlineExpired: "connect deadline expired"
            case .deadlineExpired: "deadline expired"
            case .cancelled: "cancelled"
            case .commitRolledBack: "COMMIT rolled back"
            case .invalidParameter: "invalid parameter"
            case .credentialUnavailable: "credential unavailable"
            case .credentialRefused: "credential refused"
            }
        }
    }
}

// Failures without a telling SQLSTATE are told apart by their English text. Fragments are matched in lowercase,
// in order; the first match wins, so more specific fragments come first.

extension FailureFacts {
    /// pgbouncer's errors, which nearly all carry 08P01.
    static let pgbouncerFragments: [(fragment: String, errorClass: ErrorClass)] = [
        // Before the authentication fragments: the cached error it repeats may itself be an authentication failure.
        ("server login has been failing", .serverUnavailable),
        ("server_login_retry", .serverUnavailable),
        ("pgbouncer cannot connect to server", .serverUnavailable),
        ("server dns lookup failed", .serverUnavailable),
        ("no such database", .permanent),
        ("no such user", .permanent),
        ("sasl authentication failed", .permanent),
        ("password authentication failed", .permanent),
        ("query_wait_timeout", .resourceLimit),
        ("no more connections allowed", .resourceLimit),
        ("max_client_conn", .resourceLimit),
        ("client connections exceeded", .resourceLimit),
        ("server conn crashed", .serverWentAway),
    ]

    /// libpq's own messages, for failures the server never described.
    static let libpqFragments: [(fragment: String, errorClass: ErrorClass)] = [
        // TLS configuration: retrying cannot fix these.
        ("server does not support ssl", .permanent),
        ("certificate verify failed", .permanent),
        ("does not match host name", .permanent),
        ("root certificate file", .permanent),
        ("certificate present, but not private key", .permanent),
        // No TLS version both sides accept ("SSL error: tlsv1 alert protocol version", "unsupported protocol"),
        // or an impossible ssl_min/max_protocol_version pair ("invalid SSL protocol version range").
        ("alert protocol version", .permanent),
        ("unsupported protocol", .permanent),
        ("ssl protocol version", .permanent),
        // `target_session_attrs` refused every host listed. For writes: each is (or has become) a standby, as during
        // a failover until one is promoted. The converse, no standby among them, is as transient.
        ("session is read-only", .readOnlyHost),
        ("server is in hot standby mode", .readOnlyHost),
        ("session is not read-only", .serverUnavailable),
        ("server is not in hot standby mode", .serverUnavailable),
        // The connection was lost (also under TLS).
        ("server closed the connection unexpectedly", .serverWentAway),
        ("ssl syscall error", .serverWentAway),
        ("ssl connection has been closed unexpectedly", .serverWentAway),
        ("unexpected eof", .serverWentAway),
        ("could not receive data from server", .serverWentAway),
        ("could not send data to server", .serverWentAway),
        ("no connection to the server", .serverWentAway),
        ("connection reset by peer", .serverWentAway),
        ("broken pipe", .serverWentAway),
        ("terminating connection", .serverWentAway),
        ("lost synchronization with server", .serverWentAway),
        // The server could not be reached.
        ("connection refused", .unreachable),
        ("could not translate host name", .unreachable),
        ("name or service not known", .unreachable),
        ("temporary failure in name resolution", .unreachable),
        ("nodename nor servname provided", .unreachable),
        ("timeout expired", .unreachable),
        ("no route to host", .unreachable),
        ("network is unreachable", .unreachable),
        ("host is unreachable", .unreachable),
        ("connection timed out", .unreachable),
        ("could not connect to server", .unreachable),
    ]

    /// The class pgbouncer's message names, if it is one of pgbouncer's.
    static func pgbouncerClass(of lowercasedMessage: String) -> ErrorClass? {
        pgbouncerFragments.first { lowercasedMessage.contains($0.fragment) }?.errorClass
    }

    /// The class libpq's message names, if it is one libpq is known to print.
    ///
    /// A network failure after connecting (a timeout, an unreachable route) means an established connection was lost.
    static func libpqClass(of lowercasedMessage: String, phase: Phase) -> ErrorClass? {
        guard let errorClass = libpqFragments.first(where: { lowercasedMessage.contains($0.fragment) })?.errorClass
        else { return nil }
        if errorClass == .unreachable && phase != .connecting { return .serverWentAway }
        return errorClass
    }
}
