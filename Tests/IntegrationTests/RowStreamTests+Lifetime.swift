import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

extension RowStreamTests {
    /// Whether server process `pid` is left running no generate_series statement within `limit`, polled.
    static func queryStops(pid: Int, within limit: Duration, superuser: LibPQConnection) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while true {
            let running = try await superuser.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND query LIKE '%generate_series%'"
                    + " AND state <> 'idle'",
                parameters: [.text(String(pid))]
            )
            if running.string(row: 0, column: 0) == "0" { return true }
            if ContinuousClock.now >= deadline { return false }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The stream value kept after the loop broke: its iterator alone held the session, so the query stops and the
    /// session goes back while the value lives on.
    @Test func keepingTheStreamAfterBreakingOutDoesNotKeepTheQuery() async throws {
        let client = Self.client()
        let superuser = try await IntegrationServers.superuserSession(port: Self.port)
        try await withCleanup {
            let stream = try await client.rows(
                "SELECT pg_backend_pid(), i FROM generate_series(1, 10000000) AS i", options: .readOnly
            )
            var pid = 0
            for try await row in stream {
                (pid, _) = try row.decode((Int, Int).self)
                break
            }
            let stopped = try await Self.queryStops(pid: pid, within: .seconds(1), superuser: superuser)
            withExtendedLifetime(stream) {
                #expect(stopped)
            }
        } cleanup: {
            await client.shutdown()
            await superuser.close()
        }
    }

    /// A shutdown right after an early exit does not wait for the stream's clean-up to cancel and drain the query:
    /// it closes the stream's session (which the clean-up's return to the pool closes again, harmlessly), and by the
    /// time it returns the session is closed like every other.
    @Test func shutdownWaitsForTheCleanupOfAStreamStoppedEarly() async throws {
        let recorder = SessionRecorder()
        let client = recorder.client(IntegrationServers.configuration(
            IntegrationServers.appParameters(port: Self.port)
        ) { $0.maxConnections = 1 })
        var seen = 0
        for try await _ in try await client.rows(
            "SELECT i FROM generate_series(1, 10000000) AS i", options: .readOnly
        ) {
            seen += 1
            if seen == 10 { break }
        }
        await client.shutdown()
        #expect(recorder.connects == 1)
        #expect(recorder.closes >= 1)
    }
}
