import PostgresPolicy
import PostgresTransport

extension PostgresClient {
    /// Ends the server process of an attempt whose connection was lost, and waits until it is gone, so that a
    /// verification that follows reads what that attempt did for good.
    ///
    /// A server that has not yet noticed the lost connection may still be running the statement, and commit it a
    /// moment after a verification read "not applied": the write would then run twice. The process is named by its
    /// pid and the client port the server sees for it, so a pid reused since is never taken for it; it is
    /// terminated (`pg_terminate_backend`, allowed for the same role) and polled until `pg_stat_activity` no longer
    /// lists it. Only a session on the same server can see it; on another (after a failover), nothing the old
    /// server still commits reaches the new one, and there is nothing to wait for. Over a Unix-domain socket (no
    /// client port) and behind PgBouncer (the pid and port the client knows are the pooler's) the process cannot
    /// be named, and the verification goes ahead without this wait.
    ///
    /// A session to look with is had as any operation's is, retried within the deadline: the network that lost the
    /// attempt may still be down for a moment. It runs as the client's own operation, out of the app's attempt
    /// events and metrics.
    ///
    /// - Throws: when the deadline passes first, or no session can be had: the verification must not run.
    func endLostProcess(_ process: ServerProcess, deadline: OffsetInstant) async throws {
        // Without the client port (a Unix-domain socket) the pid alone could name another session: leave it be.
        guard let clientPort = process.clientPort else { return }
        let parameters: [Parameter] = [.text(String(process.pid)), .text(String(clientPort))]
        let sql = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = $1::int AND client_port = $2::int"
        // Ending a process, and looking for it, may be repeated: the operation is idempotent.
        let safety = OperationOptions.idempotent.safety(isTransactionBlock: false)
        try await OperationDeadline.$offset.withValue(deadline) {
            try await InternalOperation.$isRunning.withValue(true) {
                try await withRetries(safety) { connection, _, deadline in
                    let deadline = ContinuousClock.Instant(deadline)
                    // On another server (after a failover), nothing the old one still commits reaches this one.
                    guard connection.host == process.host, connection.port == process.port else { return }
                    while true {
                        let listed = try await connection.execute(
                            sql, parameters: parameters, resultFormat: .text, deadline: deadline
                        )
                        if listed.rowCount == 0 { return }
                        let pause = min(deadline, clock.now.advanced(by: Self.lostProcessPollInterval))
                        try await clock.sleep(until: pause, tolerance: nil)
                        if clock.now >= deadline { throw ConnectionPool.WaitTimedOut(lastConnectFailure: nil) }
                    }
                }
            }
        }
    }

    /// How often a lost attempt's server process is looked for until it is gone.
    static let lostProcessPollInterval = Duration.milliseconds(50)
}
