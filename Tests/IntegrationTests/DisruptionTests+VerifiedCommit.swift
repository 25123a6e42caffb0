import ResilientPostgres
import ResilientPostgresTesting
import Testing

/// `OperationOptions.verifiedCommit` on a real server: a `COMMIT` whose answer is lost, resolved by its marker.
extension DisruptionTests {
    @Test func lostCommitThatLandedResolvesToApplied() async throws {
        let table = IntegrationServers.unique("verified_landed")
        let faults = FaultInjector()
        let seen = VerifiedRun()
        let client = PostgresClient.testing(configuration { $0.onAttempt = seen.record }, injecting: faults)
        try await client.execute("CREATE TABLE \(unsafeRaw: table) (key text NOT NULL, run int NOT NULL)")
        // The COMMIT runs on the server, then the session closes before its answer is read.
        faults.fail("COMMIT", with: .connectionLostAfterSend)

        let receipt = try await client.transaction(options: .verifiedCommit) { tx in
            let run = seen.nextRun()
            try await tx.execute("INSERT INTO \(unsafeRaw: table) VALUES ('order-1', \(run))")
            return "receipt-\(run)"
        }

        #expect(receipt == "receipt-1")
        #expect(seen.runs.withLock { $0 } == 1)
        #expect(seen.outcomes.withLock { $0 }.contains(.verifiedApplied))
        let runs = try await client.query("SELECT run FROM \(unsafeRaw: table)", options: .readOnly)
        #expect(try runs.decode(Int32.self) == [1])
        try await client.execute("DROP TABLE \(unsafeRaw: table)")
        await client.shutdown()
    }

    /// A block that sets its own `search_path`, where a second marker table shadows the client's: its marker and
    /// the check after a lost `COMMIT` still name one table, and the block runs once.
    @Test func markerAndItsCheckNameOneTableWhateverTheSearchPath() async throws {
        let table = IntegrationServers.unique("verified_path")
        let schema = IntegrationServers.unique("tenant")
        let faults = FaultInjector()
        let seen = VerifiedRun()
        let client = PostgresClient.testing(configuration { $0.onAttempt = seen.record }, injecting: faults)
        try await client.execute("CREATE TABLE \(unsafeRaw: table) (key text NOT NULL, run int NOT NULL)")
        // The client's table, in public, is created by its first verified write; the tenant's shadows it.
        try await client.execute("INSERT INTO \(unsafeRaw: table) VALUES ('setup', 0)", options: .verifiedCommit)
        try await client.execute("CREATE SCHEMA \(unsafeRaw: schema)")
        try await client.execute("""
            CREATE TABLE \(unsafeRaw: schema).resilient_postgres_commit_markers \
            (LIKE public.resilient_postgres_commit_markers INCLUDING ALL)
            """)
        faults.fail("COMMIT", with: .connectionLostAfterSend)

        let receipt = try await client.transaction(options: .verifiedCommit) { tx in
            let run = seen.nextRun()
            try await tx.execute("SET LOCAL search_path = \(unsafeRaw: schema), public")
            try await tx.execute("INSERT INTO public.\(unsafeRaw: table) VALUES ('order-1', \(run))")
            return "receipt-\(run)"
        }

        #expect(receipt == "receipt-1")
        #expect(seen.runs.withLock { $0 } == 1)
        let runs = try await client.query(
            "SELECT run FROM \(unsafeRaw: table) WHERE key = 'order-1'", options: .readOnly
        )
        #expect(try runs.decode(Int32.self) == [1])
        try await client.execute("DROP SCHEMA \(unsafeRaw: schema) CASCADE")
        try await client.execute("DROP TABLE \(unsafeRaw: table)")
        await client.shutdown()
    }

    @Test(.enabled(if: BlackHole.isAvailable, "needs nftables rules (nft, as root)"))
    func lostCommitThatDidNotLandRunsOnceMore() async throws {
        let table = IntegrationServers.unique("verified_lost")
        let seen = VerifiedRun()
        let client = PostgresClient(configuration: configuration { configuration in
            // The dead path is noticed after a second of unacknowledged data.
            configuration.connection["tcp_user_timeout"] = "1000"
            configuration.connectTimeout = .seconds(2)
            configuration.retryPolicy.budget = .seconds(60)
            configuration.onAttempt = seen.record
        })
        try await client.execute("CREATE TABLE \(unsafeRaw: table) (key text NOT NULL, run int NOT NULL)")
        let hole = BlackHole(port: port)
        try await disrupting {
            let reopened = Task {
                // Long after the client gave the session up, the network comes back for the check.
                while seen.runs.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(20)) }
                try await Task.sleep(for: .seconds(5))
                try await hole.open()
            }
            let receipt = try await client.transaction(options: .verifiedCommit) { tx in
                let run = seen.nextRun()
                try await tx.execute("INSERT INTO \(unsafeRaw: table) VALUES ('order-1', \(run))")
                // The marker and COMMIT of the first run go nowhere: the server never commits them.
                if run == 1 { try await hole.close() }
                return "receipt-\(run)"
            }
            try await reopened.value

            // The old server process, idle in its transaction, was ended; the marker's absence was trusted only then.
            #expect(receipt == "receipt-2")
            #expect(seen.runs.withLock { $0 } == 2)
            #expect(seen.outcomes.withLock { $0 }.contains(.verifiedNotApplied))
            let runs = try await client.query("SELECT run FROM \(unsafeRaw: table)", options: .readOnly)
            #expect(try runs.decode(Int32.self) == [2])
        }
        try? await hole.open()
        try await client.execute("DROP TABLE \(unsafeRaw: table)")
        await client.shutdown()
    }

    @Test func verifiedCommitsWriteTheirMarkersInTheCommitRoundTrip() async throws {
        let table = IntegrationServers.unique("verified_plain")
        let client = PostgresClient(configuration: configuration())
        try await client.execute("CREATE TABLE \(unsafeRaw: table) (key text NOT NULL)")
        let markersBefore = try await markerCount(client)

        let sum = try await client.transaction(options: .verifiedCommit) { tx in
            try await tx.execute("INSERT INTO \(unsafeRaw: table) VALUES ('a'), ('b')")
        }
        let single = try await client.execute(
            "INSERT INTO \(unsafeRaw: table) VALUES ('c')", options: .verifiedCommit
        )

        #expect(sum == 2)
        #expect(single == 1)
        #expect(try await markerCount(client) == markersBefore + 2)
        try await client.execute("DROP TABLE \(unsafeRaw: table)")
        await client.shutdown()
    }

    @Test func markerThatFailsAbortsTheBlockBeforeItsCommit() async throws {
        let table = IntegrationServers.unique("verified_aborted")
        let markers = IntegrationServers.unique("markers")
        let client = PostgresClient(configuration: configuration { $0.commitMarkerTable = markers })
        try await client.execute("CREATE TABLE \(unsafeRaw: table) (key text NOT NULL)")
        // Created on first use, under the configured name.
        try await client.execute("INSERT INTO \(unsafeRaw: table) VALUES ('a')", options: .verifiedCommit)
        try await client.execute("DROP TABLE \(unsafeRaw: markers)")

        // The marker, pipelined with COMMIT, fails: the block is rolled back, and the session stays usable.
        let error = await #expect(throws: PostgresError.self) {
            try await client.transaction(options: .verifiedCommit) { tx in
                try await tx.execute("INSERT INTO \(unsafeRaw: table) VALUES ('b')")
            }
        }
        #expect(error?.sqlState == "42P01")
        #expect(error?.mayHaveBeenApplied == false)
        let keys = try await client.query("SELECT key FROM \(unsafeRaw: table)", options: .readOnly)
        #expect(try keys.decode(String.self) == ["a"])
        try await client.execute("DROP TABLE \(unsafeRaw: table)")
        await client.shutdown()
    }

    private func markerCount(_ client: PostgresClient) async throws -> Int {
        // The first verified write of a client creates the table; before that there may be none.
        let exists = try await client.query(
            "SELECT to_regclass('resilient_postgres_commit_markers') IS NOT NULL", options: .readOnly
        ).decode(Bool.self)
        guard exists == [true] else { return 0 }
        return try await client.query(
            "SELECT count(*) FROM resilient_postgres_commit_markers WHERE NOT is_fence", options: .readOnly
        ).decode(Int.self)[0]
    }
}
