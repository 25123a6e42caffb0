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
