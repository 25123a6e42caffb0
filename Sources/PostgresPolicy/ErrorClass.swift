/// What kind of failure an attempt met, which decides whether and how it may be retried.
///
/// Computed from ``FailureFacts`` by ``FailureFacts/errorClass``. Anything not recognized is ``permanent``:
/// the policy fails closed. New classes may be added; `switch` over them with a `default`.
public struct ErrorClass: Hashable, Sendable, CaseIterable {
    enum Value: Hashable, Sendable, CaseIterable {
        case unreachable, hostNotFound, serverWentAway, serverUnavailable, resourceLimit, readOnlyHost
        case credentialUnavailable, transactionConflict, staleStatement, outcomeUnknown, deadline, cancelled, permanent
    }

    let value: Value

    private init(_ value: Value) { self.value = value }

    /// Connection refused, host unreachable, DNS failure, or connect timeout. Nothing was sent.
    public static let unreachable = ErrorClass(.unreachable)
    /// The host name does not exist (the resolver answered NXDOMAIN: libpq's `could not translate host name "…" to
    /// address: Name or service not known`) for every host tried, and none of them ever resolved for this client:
    /// almost always a mistyped host. Not retried. A name that resolved before (DNS changing during a failover) or a
    /// lookup that failed otherwise (`Temporary failure in name resolution`) is ``unreachable``.
    public static let hostNotFound = ErrorClass(.hostNotFound)
    /// An established connection was lost (terminated backend, shutdown, crash, network, idle timeouts).
    public static let serverWentAway = ErrorClass(.serverWentAway)
    /// The server is up but accepts no connections now (starting, shutting down, in recovery: 57P03), or none of
    /// the kind asked for (`target_session_attrs=standby` found only primaries).
    public static let serverUnavailable = ErrorClass(.serverUnavailable)
    /// The server or pooler is out of capacity (53xxx, too many clients, pgbouncer's pool limits).
    public static let resourceLimit = ErrorClass(.resourceLimit)
    /// A write reached a hot standby (25006 while `in_hot_standby` is on): the host is no longer the primary. Also
    /// when connecting for writes finds only standbys (libpq's `session is read-only`), as during a failover.
    public static let readOnlyHost = ErrorClass(.readOnlyHost)
    /// The app's credential provider could not supply a credential for a new session now (its token service did
    /// not answer, say): retried with backoff. Nothing was sent to the database. A provider's permanent failure is
    /// ``permanent``.
    public static let credentialUnavailable = ErrorClass(.credentialUnavailable)
    /// The server aborted the transaction to resolve a conflict (40001, 40P01, 55P03).
    public static let transactionConflict = ErrorClass(.transactionConflict)
    /// A prepared statement's cached plan no longer fits the table (0A000 `cached plan must not change ...`), or
    /// the named statement no longer exists (26000): preparing it again fixes it.
    public static let staleStatement = ErrorClass(.staleStatement)
    /// The request reached the server and its effect is unknown (a lost COMMIT under synchronous replication,
    /// 08007, 40003).
    public static let outcomeUnknown = ErrorClass(.outcomeUnknown)
    /// A statement timeout (57014) or the operation's own deadline ended the attempt.
    public static let deadline = ErrorClass(.deadline)
    /// The caller, or a cancel request, cancelled the attempt.
    public static let cancelled = ErrorClass(.cancelled)
    /// A failure retrying cannot fix: authentication, a credential provider's permanent failure, missing database,
    /// SQL errors, data and constraint errors, TLS configuration, and every code not known to be transient.
    public static let permanent = ErrorClass(.permanent)

    /// Every class, in declaration order.
    public static var allCases: [ErrorClass] { Value.allCases.map(ErrorClass.init) }

    /// Whether a failure of this class can go away by itself, so retrying may succeed.
    ///
    /// Whether it is *safe* to retry depends on the operation as well; see ``RetryPolicy``.
    public var isTransient: Bool {
        switch value {
        case .unreachable, .serverWentAway, .serverUnavailable, .resourceLimit, .readOnlyHost,
            .credentialUnavailable, .transactionConflict, .staleStatement:
            true
        case .hostNotFound, .outcomeUnknown, .deadline, .cancelled, .permanent:
            false
        }
    }

    /// Whether retrying after this class costs a token of the ``RetryThrottle``.
    ///
    /// Classes where the server did work or is short of capacity spend a token; failing to reach a server
    /// (refused, DNS, starting up) does not, because the backoff already paces those and they cost the server nothing.
    public var spendsRetryToken: Bool {
        switch value {
        case .serverWentAway, .resourceLimit, .readOnlyHost, .transactionConflict, .staleStatement, .outcomeUnknown:
            true
        case .unreachable, .hostNotFound, .serverUnavailable, .credentialUnavailable, .deadline, .cancelled,
            .permanent:
            false
        }
    }
}

extension ErrorClass: CustomStringConvertible {
    /// The class's name, for logs and metrics labels, for example `server went away`.
    public var name: String {
        switch value {
        case .unreachable: "unreachable"
        case .hostNotFound: "host not found"
        case .serverWentAway: "server went away"
        case .serverUnavailable: "server unavailable"
        case .resourceLimit: "resource limit"
        case .readOnlyHost: "read-only host"
        case .credentialUnavailable: "credential unavailable"
        case .transactionConflict: "transaction conflict"
        case .staleStatement: "stale statement"
        case .outcomeUnknown: "outcome unknown"
        case .deadline: "deadline"
        case .cancelled: "cancelled"
        case .permanent: "permanent"
        }
    }

    /// What the caller can do about a failure of this class, once retrying is over.
    public var advice: String {
        switch value {
        case .unreachable:
            "Check that the server is running and that host, port and DNS are right; retry later."
        case .hostNotFound:
            "Check the host name in the connection string: DNS says it does not exist, and it never resolved for "
                + "this client."
        case .serverWentAway:
            "Retry later; if a write or COMMIT was in flight, check whether it was applied before repeating it."
        case .serverUnavailable:
            "Wait for the server to finish starting, shutting down or recovering, then retry, or use another host."
        case .resourceLimit:
            "Lower the pool size or concurrency, or raise the server's or pooler's limits; retry later."
        case .readOnlyHost:
            "Connect to the primary (list every host with target_session_attrs=read-write) and run it again; "
                + "during a failover, once a standby has been promoted."
        case .credentialUnavailable:
            "Check the credential provider's identity service (reachable, signed in, permitted); retry later."
        case .transactionConflict:
            "Run the whole transaction again; if conflicts persist, shorten transactions or take locks in one order."
        case .staleStatement:
            "Prepare the statement again, or restart the session after schema changes."
        case .outcomeUnknown:
            "Check whether the change was applied before repeating it, or make the operation idempotent."
        case .deadline:
            "Allow more time (statement_timeout or the operation deadline), or make the statement faster."
        case .cancelled:
            "Nothing to fix: the operation was cancelled on request. Run it again if it is still wanted."
        case .permanent:
            "Fix the cause named by the SQLSTATE and message (credentials, database, SQL, data or TLS settings)."
        }
    }

    /// The name and the advice, for example `deadline: Allow more time ...`.
    public var description: String { "\(name): \(advice)" }
}
