import Foundation
import PostgresPolicy

extension LibPQConnection {
    /// Opens a session, within `timeout` (the library's own connect deadline, across every host listed).
    ///
    /// With several hosts (`host=a,b`), the hosts are tried one at a time, in order, each for at most its connect
    /// timeout: libpq's `connect_timeout` when given (or `PGCONNECT_TIMEOUT`), else
    /// ``Options/hostConnectTimeout``. A host that accepts TCP and never answers is left for the next one, as libpq's
    /// blocking connect (and so `psql`) does. A single host has the whole `timeout`, unless `connect_timeout` is
    /// given; a host with others after it gets at most half of the time left, so that the next one always has a
    /// turn. As in libpq, a host whose server answered with an error (wrong password, no such database) ends the
    /// list; every other failure (refused, timed out, read-only when `target_session_attrs` asks for read-write,
    /// TLS, and a server starting up, shutting down or full: 57P03, 53300) moves on to the next host, and the last
    /// failure is thrown; but a full server's 53300 rather than the refusals after it that no server answered (such
    /// as a standby's "session is read-only"), so that a full primary listed first reads as full.
    ///
    /// - Throws: ``TransportError`` with phase `connecting`: ``TransportError/Code/connectFailed``
    ///   with the server's SQLSTATE when it sent one (28P01 wrong password, 3D000 no such database, 57P03 starting
    ///   up or shutting down, 53300 too many clients) or libpq's message when it did not (connection refused, host
    ///   name not resolved); ``TransportError/Code/connectDeadlineExceeded`` (at the end of `timeout`, or of the last
    ///   host's connect timeout); ``TransportError/Code/cancelled``; ``TransportError/Code/invalidConnectionString``
    ///   when `connect_timeout` is not an integer.
    public static func connect(
        _ parameters: ConnectionParameters,
        timeout: Duration = .seconds(10),
        options: Options = Options()
    ) async throws -> LibPQConnection {
        try await connect(parameters, deadline: .now.advanced(by: timeout), options: options)
    }

    /// Opens a session before `deadline`. See ``connect(_:timeout:options:)``.
    public static func connect(
        _ parameters: ConnectionParameters,
        deadline: ContinuousClock.Instant,
        options: Options = Options()
    ) async throws -> LibPQConnection {
        var parameters = parameters
        if parameters["client_encoding"] == nil {
            // Swift strings are UTF-8; so is every text value exchanged with the server.
            parameters["client_encoding"] = "UTF8"
        }
        let hosts = parameters.hostSequence
        let hostTimeout = try parameters.hostConnectTimeout(default: hosts.count > 1 ? options.hostConnectTimeout : nil)
        var lastFailure: TransportError?
        var failures: [TransportError] = []
        let thread = IOThread.forNewConnection()
        for (index, host) in hosts.enumerated() {
            if Task.isCancelled {
                let message = lastFailure == nil ? "cancelled before connecting" : "cancelled while connecting"
                throw TransportError(code: .cancelled, message: message,
                                     host: lastFailure?.host, port: lastFailure?.port, phase: .connecting,
                                     isConnectionUsable: false)
            }
            var hostDeadline = hostTimeout.map { min(deadline, .now.advanced(by: $0)) } ?? deadline
            if index < hosts.count - 1 {
                // The library's deadline covers every host, which libpq's per-host timeout alone does not: a host
                // with others after it gets at most half of what is left, so the next one always has a turn.
                hostDeadline = min(hostDeadline, .now.advanced(by: ContinuousClock.now.duration(to: deadline) / 2))
            }
            let attempt = ConnectAttempt(parameters: host, deadline: hostDeadline,
                                         deadlineIsHostTimeout: hostDeadline < deadline, thread: thread)
            switch await attempt.connect() {
            case .success(let handle):
                return LibPQConnection(handle: handle, thread: thread, options: options)
            case .failure(let failure):
                // "If a connection is established successfully, but authentication fails, the remaining hosts in the
                // list are not tried": libpq ends the list at an error the server answers during startup. Not at a
                // refusal that belongs to that one server's state, though: starting up or shutting down (57P03, an
                // old primary restarting) or full (53300); the next host may well be the primary.
                let endsTheList = failure.severity != nil && !Self.isHostState(failure.sqlState)
                failures.append(failure)
                if failure.code == .cancelled || endsTheList || ContinuousClock.now >= deadline {
                    throw Self.lastFailure(of: failures)
                }
                lastFailure = Self.lastFailure(of: failures)
            }
        }
        throw lastFailure ?? TransportError(code: .connectFailed, message: "no host to connect to",
                                            phase: .connecting, isConnectionUsable: false)
    }

    /// The failure a connect throws, of those of the hosts tried (one each), with what every one showed of the host
    /// names: the names that resolved, and the names that do not exist when that is why every host failed.
    ///
    /// It is the last failure, with one exception: a server that refused for want of resources (class 53, such as
    /// 53300 when it or the role is out of connection slots) outranks the hosts after it whose connects failed with
    /// no answer of a server's own (refused, or of the wrong kind: a standby when `target_session_attrs` asks for
    /// read-write); not a cancellation or the end of the connect's time, which end the connect itself. With the
    /// primary listed first and full, the standby's "session is read-only" would send the client looking for another
    /// primary and reconnecting at once, where the full primary calls for waiting out the back-pressure.
    private static func lastFailure(of failures: [TransportError]) -> TransportError {
        var chosen = failures.count - 1
        if let full = failures.lastIndex(where: { SQLState.Class.insufficientResources ~= $0.sqlState }),
           failures[(full + 1)...].allSatisfy({ $0.code == .connectFailed && $0.sqlState == nil }) {
            chosen = full
        }
        var last = failures[chosen]
        var resolved: [String] = []
        var notFound: [String] = []
        for failure in failures {
            resolved += failure.resolvedHostNames.filter { !resolved.contains($0) }
            notFound += failure.hostNamesNotFound.filter { !notFound.contains($0) }
        }
        last.resolvedHostNames = resolved
        last.hostNamesNotFound = failures.allSatisfy { !$0.hostNamesNotFound.isEmpty } ? notFound : []
        return last
    }

    /// Whether a connect failure's SQLSTATE says only that this server cannot take a session now (class 57,
    /// operator intervention such as 57P03; class 53, insufficient resources such as 53300).
    private static func isHostState(_ sqlState: SQLState?) -> Bool {
        SQLState.Class.operatorIntervention ~= sqlState || SQLState.Class.insufficientResources ~= sqlState
    }
}
