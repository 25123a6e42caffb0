public import PostgresPolicy

/// How opening a session goes wrong, in the terms of what happened to the database.
///
/// Each fault is reported exactly as libpq reports it (see FAULTS.md): the connect failures carry libpq's own
/// message text, parsed by the same code that parses a real one, so the client classifies them as it would in
/// production. Script them with ``ScriptedDatabase/failNextConnect(with:)``,
/// ``ScriptedDatabase/beginOutage(_:sessionFault:)`` and their siblings, or inject them into real connects with a
/// ``FaultInjector``.
public struct ConnectFault: Sendable, Hashable, CustomStringConvertible {
    enum Kind: Sendable, Hashable {
        /// libpq's message for a failed connect; `HOST` and `PORT` are replaced by the session's endpoint.
        case libpqMessage(String)
        /// No answer until the connect deadline.
        case timeout
        /// The session opens after this long (or fails at the connect deadline, if that comes first).
        case slow(Duration)
        /// The session opens on a hot standby.
        case standby
    }

    let kind: Kind
    /// The fault's name, for descriptions.
    let name: String

    private init(_ name: String, _ kind: Kind) {
        self.name = name
        self.kind = kind
    }

    private static func refusal(_ name: String, _ serverMessage: String) -> ConnectFault {
        let prefix = #"connection to server at "HOST" (127.0.0.1), port PORT failed: "#
        return ConnectFault(name, .libpqMessage(prefix + serverMessage))
    }

    /// Nothing listens on the port (the server is down or restarting): `Connection refused`. Retried with backoff;
    /// while it lasts, the pool's prober reconnects for the waiting operations.
    public static let connectionRefused = refusal(
        "connection refused",
        "Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?"
    )

    /// The host name does not exist: the resolver answered NXDOMAIN (`could not translate host name "HOST" to
    /// address: Name or service not known`).
    ///
    /// Judged by what the client knows of the name, as a real one is: if no session to the host opened before in
    /// this client, it is almost always a mistyped host, and the operation fails at once as
    /// `ErrorClass.hostNotFound`; once one has (DNS changing during a failover), it is retried with backoff as
    /// `ErrorClass.unreachable`.
    public static let hostNotFound = ConnectFault(
        "host not found",
        .libpqMessage(#"could not translate host name "HOST" to address: Name or service not known"#)
    )

    /// The resolver could not answer (a DNS timeout or server failure): `could not translate host name "HOST" to
    /// address: Temporary failure in name resolution`. Retried with backoff, whether or not the name resolved before.
    public static let nameResolutionFailed = ConnectFault(
        "name resolution failed",
        .libpqMessage(#"could not translate host name "HOST" to address: Temporary failure in name resolution"#)
    )

    /// Every connection slot is taken: FATAL 53300 `sorry, too many clients already`. Retried with the longer
    /// resource-limit backoff.
    public static let tooManyConnections = refusal(
        "too many connections", "FATAL:  53300: sorry, too many clients already"
    )

    /// The server is starting or recovering: FATAL 57P03 `the database system is not yet accepting connections`.
    public static let serverStarting = refusal(
        "server starting",
        "FATAL:  57P03: the database system is not yet accepting connections\n"
            + "DETAIL:  Consistent recovery state has not been yet reached."
    )

    /// A smart shutdown is under way: FATAL 57P03 `the database system is shutting down`.
    public static let serverShuttingDown = refusal(
        "server shutting down", "FATAL:  57P03: the database system is shutting down"
    )

    /// Wrong password: FATAL 28P01. Permanent: never retried, except once with a `CredentialProvider`.
    ///
    /// This is also "the credential is rejected once", for an app's tests of its token provider: when the session
    /// signed in with a credential the client had kept from an earlier fetch (an access token that may have
    /// expired since), the client drops it, calls the provider again and connects once more, before it reports
    /// anything. ``RecordedConnect/credential`` shows what each connect signed in with.
    public static let authenticationFailed = refusal(
        "authentication failed", #"FATAL:  28P01: password authentication failed for user "app""#
    )

    /// The database does not exist: FATAL 3D000. Permanent: never retried.
    public static let databaseMissing = refusal("database missing", #"FATAL:  3D000: database "app" does not exist"#)

    /// The server requires what the client cannot do, or the reverse, for TLS: `server does not support SSL, but SSL
    /// was required`. Permanent: never retried.
    public static let tlsUnsupported = ConnectFault(
        "TLS unsupported", .libpqMessage("server does not support SSL, but SSL was required")
    )

    /// The server refuses the session with a FATAL of the given SQLSTATE and message.
    public static func refused(sqlState: SQLState, message: String) -> ConnectFault {
        precondition(!sqlState.isClass, "a SQLSTATE has five characters")
        return refusal("refused with \(sqlState)", "FATAL:  \(sqlState): \(message)")
    }

    /// Every host listed is a standby, as in the moments of a failover before the promotion: libpq's
    /// `target_session_attrs=read-write` refuses each one (`session is read-only`). Retried: the pool's prober
    /// reconnects until a primary answers.
    public static let readOnlySession = refusal("read-only session", "session is read-only")

    /// The peer accepts the connection and never answers (a black hole, a hung host): the connect fails when the
    /// library's connect deadline passes. Retried with backoff.
    public static let timeout = ConnectFault("timeout", .timeout)

    /// The session opens, but only after `duration`: a slow network or an overloaded server. If the connect
    /// deadline comes first, the connect fails then, as ``timeout`` does.
    public static func slow(_ duration: Duration) -> ConnectFault {
        precondition(duration >= .zero, "a delay cannot be negative")
        return ConnectFault("slow (\(duration))", .slow(duration))
    }

    /// The session opens on a hot standby: reads work, and a write fails with 25006 (`cannot execute INSERT in a
    /// read-only transaction`) while the session reports `in_hot_standby` on. The client retires every session of
    /// that pool epoch and reconnects.
    public static let standby = ConnectFault("landed on a standby", .standby)

    /// The fault's name.
    public var description: String { name }
}
