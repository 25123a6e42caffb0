import PostgresTransport
import ResilientPostgres
import Synchronization
import Testing

extension FailoverTests {
    /// Tells the writers to finish.
    final class StopFlag: Sendable {
        private let raised = Atomic(false)
        var isRaised: Bool { raised.load(ordering: .relaxed) }
        func raise() { raised.store(true, ordering: .relaxed) }
    }

    /// Writers with verified commits through three failovers under synchronous replication, each old primary
    /// rebuilt as the new one's standby: every acknowledged write is there once, nothing else is, and no write is
    /// left unknown. Leaves `failover` the primary and `failover-standby` its standby, as the suite's servers start.
    @Test func verifiedWritesThroughThreeFailoversLeaveNothingUnknown() async throws {
        let names = ["failover", "failover-standby"]
        let ports = [try Self.port(FailoverServers.primaryPort), try Self.port(FailoverServers.standbyPort)]
        // Another test of the suite may have failed over already: whichever is primary now gets a fresh standby.
        var primary = try await Self.primaryIndex(ports)
        try await Servers.cluster("start-standby", names[1 - primary], names[primary])
        try await Self.replicateSynchronously(port: ports[primary])
        let admin = try await IntegrationServers.superuserSession(port: ports[primary])
        _ = try await admin.execute("CREATE TABLE verified_failover_soak (key text NOT NULL)")
        await admin.close()

        var configuration = PostgresClient.Configuration(connection: Servers.parameters(port: ports.joined(separator: ",")))
        configuration.connection["host"] = "127.0.0.1,127.0.0.1"
        configuration.maxConnections = 4
        configuration.logger = .quiet
        let resolved = Counter()
        configuration.onAttempt = { event in
            if event.outcome == .verifiedApplied || event.outcome == .verifiedNotApplied { resolved.increment() }
        }
        let client = PostgresClient(configuration: configuration)
        let ledger = Ledger()
        let stop = StopFlag()

        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 1...4 {
                group.addTask {
                    var number = 0
                    while !stop.isRaised {
                        number += 1
                        let key = "w\(writer)-\(number)"
                        do {
                            try await client.execute(
                                "INSERT INTO verified_failover_soak VALUES (\(key))", options: .verifiedCommit
                            )
                            _ = ledger.acknowledged.withLock { $0.insert(key) }
                        } catch let error as PostgresError where error.mayHaveBeenApplied {
                            _ = ledger.unknown.withLock { $0.insert(key) }
                        } catch let error as PostgresError {
                            ledger.notApplied.withLock { $0[key] = error.errorClass.name }
                        }
                    }
                }
            }
            for _ in 1...3 {
                try await Task.sleep(for: .seconds(2))
                try await Servers.cluster("stop", names[primary], "immediate")
                try await Servers.cluster("promote", names[1 - primary])
                primary = 1 - primary
                // Commits on the new primary wait for a synchronous standby: the old primary, rebuilt.
                try await Servers.cluster("start-standby", names[1 - primary], names[primary])
                try await Self.replicateSynchronously(port: ports[primary])
            }
            try await Task.sleep(for: .seconds(2))
            stop.raise()
            try await group.waitForAll()
        }
        await client.shutdown()

        let survivor = try await IntegrationServers.superuserSession(port: ports[primary])
        let rows = try await survivor.execute("SELECT key, count(*)::text FROM verified_failover_soak GROUP BY key")
        var counts: [String: Int] = [:]
        for row in 0..<rows.rowCount {
            counts[rows.string(row: row, column: 0)!] = Int(rows.string(row: row, column: 1)!)
        }
        _ = try await survivor.execute("DROP TABLE verified_failover_soak")
        await survivor.close()
        if primary == 1 {
            // Back to the roles the suite's servers start in (the writers are done: a fast stop loses nothing).
            try await Servers.cluster("stop", names[1], "fast")
            try await Servers.cluster("promote", names[0])
            try await Servers.cluster("start-standby", names[1], names[0])
        }

        let acknowledged = ledger.acknowledged.withLock { $0 }
        // Answers were lost, and every one of them was resolved.
        #expect(resolved.count > 0)
        #expect(ledger.unknown.withLock { $0 }.sorted() == [])
        #expect(ledger.notApplied.withLock { $0 }.isEmpty)
        #expect(acknowledged.filter { counts[$0] != 1 }.sorted() == [])
        #expect(counts.keys.filter { !acknowledged.contains($0) }.sorted() == [])
    }

    /// Under synchronous replication, a `COMMIT` whose wait for the standby was cut short (its server process
    /// terminated) committed on the primary only: a failover right after would lose it. The check must not call
    /// it applied: its own commit waits for the standby too, which is down, so the outcome stays unknown.
    @Test func commitThatOnlyThePrimaryHasIsNeverReportedApplied() async throws {
        let names = ["failover", "failover-standby"]
        let ports = [try Self.port(FailoverServers.primaryPort), try Self.port(FailoverServers.standbyPort)]
        let primary = try await Self.primaryIndex(ports)
        let standby = names[1 - primary]
        try await Servers.cluster("start-existing", standby)
        try await Self.replicateSynchronously(port: ports[primary])
        let table = IntegrationServers.unique("verified_sync")
        let admin = try await IntegrationServers.superuserSession(port: ports[primary])
        _ = try await admin.execute("CREATE TABLE \(table) (key text NOT NULL)")
        var configuration = PostgresClient.Configuration(connection: Servers.parameters(port: ports[primary]))
        configuration.retryPolicy.budget = .seconds(5)
        configuration.logger = .quiet
        let client = PostgresClient(configuration: configuration)
        // The marker table is there, on both servers, before the standby goes.
        try await client.execute("INSERT INTO \(unsafeRaw: table) VALUES ('setup')", options: .verifiedCommit)
        try await Servers.cluster("stop", standby, "fast")

        try await withCleanup {
            let write = Task {
                try await client.transaction(options: .verifiedCommit) { tx in
                    try await tx.execute("INSERT INTO \(unsafeRaw: table) VALUES ('order-1')")
                }
            }
            // The COMMIT waits for the standby; its server process is ended there, as a failover or an operator
            // would, which leaves the transaction committed on the primary alone.
            var terminated = false
            while !terminated {
                let ended = try await admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event = 'SyncRep'"
                )
                terminated = ended.rowCount > 0
                if !terminated { try await Task.sleep(for: .milliseconds(20)) }
            }
            let error = await #expect(throws: PostgresError.self) { try await write.value }
            #expect(error?.mayHaveBeenApplied == true)
        } cleanup: {
            await client.shutdown()
            try await Servers.cluster("start-existing", standby)
            _ = try await admin.execute("DROP TABLE \(table)")
            await admin.close()
        }
    }

    /// The index in `ports` of the server that accepts writes.
    static func primaryIndex(_ ports: [String]) async throws -> Int {
        for (index, port) in ports.enumerated() {
            guard let session = try? await IntegrationServers.superuserSession(port: port) else { continue }
            let inRecovery = try? await session.execute("SELECT pg_is_in_recovery()").string(row: 0, column: 0)
            await session.close()
            if inRecovery == "f" { return index }
        }
        Issue.record("neither of \(ports) accepts writes")
        throw CancellationError()
    }

    /// Makes commits on the primary at `port` wait for its standby, and waits until the standby is synchronous.
    static func replicateSynchronously(port: String) async throws {
        let admin = try await IntegrationServers.superuserSession(port: port)
        _ = try await admin.execute("ALTER SYSTEM SET synchronous_standby_names = '*'")
        _ = try await admin.execute("ALTER SYSTEM SET synchronous_commit = 'on'")
        _ = try await admin.execute("SELECT pg_reload_conf()")
        for _ in 0..<1500 {
            let synchronous = try await admin.execute(
                "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'"
            ).string(row: 0, column: 0)
            if synchronous == "1" { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        await admin.close()
    }
}
