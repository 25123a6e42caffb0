import PostgresTransport
import ResilientPostgres
import ResilientPostgresTesting
import Synchronization
import Testing

extension PrimaryStandbyTests {
    /// What a verified block saw across a failover: its runs, its first run's transaction id, and its attempts.
    final class FailoverRecord: Sendable {
        let runs = Mutex(0)
        let lostTransaction = Mutex<Int64?>(nil)
        let outcomes = Mutex<[AttemptEvent.Outcome]>([])
    }

    /// The hard case of a lost `COMMIT` under asynchronous replication: the old primary committed, its standby
    /// never got the commit, and the promoted standby hands the transaction's id to another transaction. Asked
    /// there, `pg_xact_status` says "committed"; the marker says "not applied", which is the truth on the timeline
    /// that survived, and the block runs once more.
    @Test func lostCommitOnAnOldPrimaryIsNotAppliedOnTheNewOneThatReusedItsTransactionID() async throws {
        let table = IntegrationServers.unique("verified_failover")
        let faults = FaultInjector()
        let record = FailoverRecord()
        var parameters = IntegrationServers.appParameters(port: "\(Self.primaryPort),\(Self.standbyPort)")
        parameters["host"] = "127.0.0.1,127.0.0.1"
        let configuration = IntegrationServers.configuration(parameters) { configuration in
            configuration.retryPolicy.budget = .seconds(120)
            configuration.onAttempt = { event in record.outcomes.withLock { $0.append(event.outcome) } }
        }
        let client = PostgresClient.testing(configuration, injecting: faults)
        let claim = StatementMatcher.prefix("INSERT INTO public.resilient_postgres_commit_markers AS marker")

        try await withCleanup {
            try await client.execute("CREATE TABLE \(unsafeRaw: table) (key text NOT NULL, run int NOT NULL)")
            // The marker table exists on both servers before the standby stops.
            try await client.execute("INSERT INTO \(unsafeRaw: table) VALUES ('setup', 0)", options: .verifiedCommit)
            try await Self.waitUntilStandbyHas(1, rowsOf: table)
            try await Servers.cluster("stop", "standby", "fast")

            // The first COMMIT runs on the old primary, then its answer is lost; the claim that checks it waits
            // long enough for the failover to happen first.
            faults.fail("COMMIT", with: .connectionLostAfterSend)
            faults.fail(claim, with: .slow(.seconds(10)))
            let transfer = Task {
                try await client.transaction(options: .verifiedCommit) { tx in
                    let run = record.runs.withLock { $0 += 1; return $0 }
                    try await tx.execute("INSERT INTO \(unsafeRaw: table) VALUES ('order-1', \(run))")
                    let id = try await tx.query("SELECT pg_current_xact_id()::text::int8").decode(Int64.self)[0]
                    if run == 1 { record.lostTransaction.withLock { $0 = id } }
                    return "receipt-\(run)"
                }
            }
            while faults.statements(matching: claim).isEmpty { try await Task.sleep(for: .milliseconds(20)) }

            try await Servers.cluster("stop", "primary", "immediate")
            try await Servers.cluster("start-existing", "standby")
            try await Servers.cluster("promote", "standby")
            let lost = try #require(record.lostTransaction.withLock { $0 })
            let promoted = try await IntegrationServers.superuserSession(port: Self.standbyPort)
            // Hand out transaction ids on the new timeline until the lost transaction's id is taken.
            var taken: Int64 = 0
            while taken <= lost {
                let next = try await promoted.execute("SELECT pg_current_xact_id()::text")
                taken = try #require(next.string(row: 0, column: 0).flatMap { Int64($0) })
            }

            #expect(try await transfer.value == "receipt-2")
            #expect(record.runs.withLock { $0 } == 2)
            #expect(record.outcomes.withLock { $0 }.contains(.verifiedNotApplied))
            #expect(!record.outcomes.withLock { $0 }.contains(.verifiedApplied))
            // On the new primary, the lost transaction's id now belongs to a committed transaction...
            let status = try await promoted.execute("SELECT pg_xact_status('\(lost)'::xid8)")
            #expect(status.string(row: 0, column: 0) == "committed")
            // ...yet the block is there exactly once: the second run.
            let rows = try await promoted.execute("SELECT run FROM \(table) WHERE key = 'order-1'")
            #expect(rows.rowCount == 1)
            #expect(rows.string(row: 0, column: 0) == "2")
            await promoted.close()
        } cleanup: {
            await client.shutdown()
            try await Self.failBack()
        }
        let restored = Self.client(ports: [Self.primaryPort])
        try await restored.execute("DROP TABLE \(unsafeRaw: table)")
        await restored.shutdown()
    }
}
