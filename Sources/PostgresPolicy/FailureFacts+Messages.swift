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
