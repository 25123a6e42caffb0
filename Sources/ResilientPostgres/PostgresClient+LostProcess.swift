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
    /// server still commits reaches the new one, and there is nothing to wait for.
    ///
    /// - Throws: when the deadline passes first, or a session cannot be had: the verification must not run.
    func endLostProcess(_ process: ServerProcess, deadline: ContinuousClock.Instant) async throws {
        let lease = try await pool.acquire(deadline: deadline)
        guard lease.connection.host == process.host, lease.connection.port == process.port else {
            await pool.release(lease, reuse: true)
            return
        }
        var parameters: [Parameter] = [.text(String(process.pid))]
        var sql = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = $1::int"
        if let clientPort = process.clientPort {
            sql += " AND client_port = $2::int"
            parameters.append(.text(String(clientPort)))
        }
        do {
            while true {
                let listed = try await lease.connection.execute(
                    sql, parameters: parameters, resultFormat: .text, deadline: deadline
                )
                if listed.rowCount == 0 { break }
                try await clock.sleep(until: min(deadline, clock.now.advanced(by: Self.lostProcessPollInterval)), tolerance: nil)
                if clock.now >= deadline { throw ConnectionPool.WaitTimedOut(lastConnectFailure: nil) }
            }
        } catch {
            await pool.release(lease, reuse: (error as? TransportError)?.isConnectionUsable ?? true)
            throw error
        }
        await pool.release(lease, reuse: true)
    }

    /// How often a lost attempt's server process is looked for until it is gone.
    static let lostProcessPollInterval = Duration.milliseconds(50)
}
