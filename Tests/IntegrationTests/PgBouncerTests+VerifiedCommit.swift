import ResilientPostgres
import ResilientPostgresTesting
import Testing

extension PgBouncerTests {
    /// Through pgbouncer in transaction mode: the marker goes with `COMMIT` in one pipelined round trip, and after
    /// a lost answer the check runs on whatever server session pgbouncer gives it.
    @Test func verifiedCommitsWorkThroughThePooler() async throws {
        let table = IntegrationServers.unique("bouncer_verified")
        let faults = FaultInjector()
        let seen = VerifiedRun()
        let configuration = IntegrationServers.configuration(IntegrationServers.appParameters(port: Self.port)) {
            $0.onAttempt = seen.record
        }
        let pipelined = Self.client()
        let injected = PostgresClient.testing(configuration, injecting: faults)
        try await pipelined.execute("CREATE TABLE \(unsafeRaw: table) (key text NOT NULL)")

        // The real pipeline, through the pooler.
        let single = try await pipelined.execute("INSERT INTO \(unsafeRaw: table) VALUES ('a')", options: .verifiedCommit)
        #expect(single == 1)
        let inBlock = try await pipelined.transaction(options: .verifiedCommit) { tx in
            try await tx.execute("INSERT INTO \(unsafeRaw: table) VALUES ('b')")
        }
        #expect(inBlock == 1)

        // A COMMIT that ran, whose answer was lost.
        faults.fail("COMMIT", with: .connectionLostAfterSend)
        try await injected.transaction(options: .verifiedCommit) { tx in
            _ = seen.nextRun()
            try await tx.execute("INSERT INTO \(unsafeRaw: table) VALUES ('c')")
        }
        #expect(seen.runs.withLock { $0 } == 1)
        #expect(seen.outcomes.withLock { $0 }.contains(.verifiedApplied))

        let keys = try await pipelined.query("SELECT key FROM \(unsafeRaw: table) ORDER BY key", options: .readOnly)
        #expect(try keys.decode(String.self) == ["a", "b", "c"])
        try await pipelined.execute("DROP TABLE \(unsafeRaw: table)")
        await injected.shutdown()
        await pipelined.shutdown()
    }
}
