import Foundation
import ResilientPostgres
import Synchronization

/// Writers insert rows with unique keys through one client while the primary is killed (`-m immediate`) and the
/// standby promoted. Afterwards every acknowledged write must be present exactly once, nothing twice, and every
/// write whose outcome was unknown must have been reported as such. The writes use `OperationOptions.verifiedCommit`,
/// so the client resolves their lost answers itself (`--plain` for plain writes, which report them unknown). Prints a
/// timeline, then one summary line: `acknowledged=N present=N lost=0 duplicated=0 unknown=K resolved=R
/// recovery_ms=M`, and exits non-zero if anything was lost or duplicated.
@main
struct FailoverDemo {
    static func main() async {
        guard let settings = Settings.parse(Array(CommandLine.arguments.dropFirst())) else {
            FileHandle.standardError.write(Data((Settings.usage + "\n").utf8))
            exit(2)
        }
        do {
            exit(try await run(settings) ? 0 : 1)
        } catch {
            Timeline.printLine("failover demo failed: \(String(reflecting: error))")
            exit(1)
        }
    }

    static func run(_ settings: Settings) async throws -> Bool {
        let timeline = Timeline()
        let primaryAdmin = PostgresClient(configuration: try adminConfiguration(settings.adminConnection(port: settings.primaryPort)))
        let standbyAdmin = PostgresClient(configuration: try adminConfiguration(settings.adminConnection(port: settings.standbyPort)))
        try await prepare(primaryAdmin, settings: settings, timeline: timeline)
        await primaryAdmin.shutdown()

        var configuration = try PostgresClient.Configuration(settings.applicationConnection)
        configuration.maxConnections = settings.writers
        configuration.onAttempt = { event in timeline.record(event) }
        // The timeline shows every retry and give-up already; the client's own log lines would repeat them.
        configuration.logger.logLevel = .error
        let client = PostgresClient(configuration: configuration)
        let ledger = Ledger()
        let stop = StopSignal()

        let options: OperationOptions = settings.plain ? .write : .verifiedCommit
        let kind = settings.plain ? "plain writes" : "writes with a verified commit"
        timeline.log("\(settings.writers) writers insert (\(kind)) through \(configuration)")
        let writers = Task {
            await withTaskGroup(of: Void.self) { group in
                for writer in 1...settings.writers {
                    group.addTask {
                        await write(as: writer, client: client, ledger: ledger, options: options, until: stop)
                    }
                }
            }
        }

        try await Task.sleep(for: settings.warmUp)
        let script = ClusterScript(path: settings.clusterScript)
        timeline.log("killing the primary (\(settings.primaryName), port \(settings.primaryPort)) with -m immediate")
        try await script.run("stop", settings.primaryName, "immediate")
        timeline.log("primary is down; promoting the standby (\(settings.standbyName), port \(settings.standbyPort))")
        async let promoted: Void = script.run("promote", settings.standbyName)
        let acceptsWrites = try await waitUntilPrimary(standbyAdmin)
        timeline.log("standby accepts writes", at: acceptsWrites)
        try await promoted

        try await Task.sleep(until: acceptsWrites + settings.afterPromotion)
        stop.raise()
        await writers.value
        await client.shutdown()
        timeline.log("writers stopped; checking the new primary")

        let entries = ledger.snapshot
        let counts = try await rowCounts(standbyAdmin)
        await standbyAdmin.shutdown()
        return report(
            entries, counts: counts, resolved: timeline.resolved, verified: !settings.plain,
            acceptsWrites: acceptsWrites, timeline: timeline
        )
    }

    static func adminConfiguration(_ connection: String) throws -> PostgresClient.Configuration {
        var configuration = try PostgresClient.Configuration(connection)
        configuration.maxConnections = 1
        return configuration
    }

    /// Makes commits wait for the standby (synchronous replication, as HA services run), and creates the tables:
    /// the writers' own, and the commit marker table, made for the app as for a role that may not run DDL.
    static func prepare(_ admin: PostgresClient, settings: Settings, timeline: Timeline) async throws {
        try await admin.execute("ALTER SYSTEM SET synchronous_standby_names = '*'")
        try await admin.execute("ALTER SYSTEM SET synchronous_commit = 'on'")
        try await admin.execute("SELECT pg_reload_conf()")
        while try await admin.query(
            "SELECT count(*)::int FROM pg_stat_replication WHERE sync_state = 'sync'", options: .readOnly
        ).decode(Int.self).first ?? 0 == 0 {
            try await Task.sleep(for: .milliseconds(20))
        }
        timeline.log("the standby replicates synchronously")
        try await admin.execute("DROP TABLE IF EXISTS failover_demo")
        try await admin.execute("""
            CREATE TABLE failover_demo (
                key text NOT NULL, writer int NOT NULL, written_at timestamptz NOT NULL DEFAULT clock_timestamp())
            """)
        try await admin.execute("GRANT SELECT, INSERT ON failover_demo TO \(unsafeRaw: settings.user)")
        try await admin.execute("DROP TABLE IF EXISTS resilient_postgres_commit_markers")
        try await admin.execute("""
            CREATE TABLE resilient_postgres_commit_markers (
                id uuid PRIMARY KEY,
                expires_at timestamptz NOT NULL,
                is_fence boolean NOT NULL DEFAULT false)
            """)
        try await admin.execute(
            "CREATE INDEX resilient_postgres_commit_markers_expires_at ON resilient_postgres_commit_markers (expires_at)"
        )
        try await admin.execute(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON resilient_postgres_commit_markers TO \(unsafeRaw: settings.user)"
        )
    }

    /// One writer: inserts `w<writer>-<n>` for n = 1, 2, ... until told to stop, recording what it was told.
    ///
    /// Not declared idempotent: when its answer is lost, the client checks its commit marker and runs it again only
    /// if it was not applied; a plain write (`--plain`) is not retried, and the client says so.
    static func write(
        as writer: Int,
        client: PostgresClient,
        ledger: Ledger,
        options: OperationOptions,
        until stop: StopSignal
    ) async {
        var number = 0
        while !stop.isRaised {
            number += 1
            let key = "w\(writer)-\(number)"
            do {
                try await client.execute(
                    "INSERT INTO failover_demo (key, writer) VALUES (\(key), \(writer))", options: options
                )
                ledger.acknowledge(key, at: .now)
            } catch let error as PostgresError {
                ledger.record(key, error: error)
            } catch {
                fatalError("unexpected error: \(error)")
            }
        }
    }

    /// Polls the standby until it has left recovery, and returns when it first answered so.
    static func waitUntilPrimary(_ standby: PostgresClient) async throws -> ContinuousClock.Instant {
        while true {
            let inRecovery = try await standby.query("SELECT pg_is_in_recovery()", options: .readOnly).decode(Bool.self)
            if inRecovery == [false] { return .now }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    static func rowCounts(_ admin: PostgresClient) async throws -> [String: Int] {
        let rows = try await admin.query("SELECT key, count(*)::int FROM failover_demo GROUP BY key", options: .readOnly)
        return Dictionary(uniqueKeysWithValues: try rows.decode((String, Int).self))
    }

    /// Prints the verdict and the summary line; true when nothing was lost or duplicated, and, with verified
    /// commits, nothing was left unknown.
    static func report(
        _ entries: Ledger.Entries,
        counts: [String: Int],
        resolved: Int,
        verified: Bool,
        acceptsWrites: ContinuousClock.Instant,
        timeline: Timeline
    ) -> Bool {
        let acknowledged = entries.acknowledged.keys
        let present = acknowledged.filter { counts[$0] == 1 }.count
        let lost = acknowledged.filter { counts[$0] == nil }.count
        let duplicated = counts.values.filter { $0 > 1 }.count
        // A write reported as not applied must not be there.
        let phantoms = entries.failed.keys.filter { counts[$0] != nil }.count
        let unknownPresent = entries.unknown.filter { counts[$0] != nil }.count
        let firstAfter = entries.acknowledged.values.filter { $0 >= acceptsWrites }.min()
        let recovery = firstAfter.map { Int(($0 - acceptsWrites) / .milliseconds(1)) }
        if let firstAfter { timeline.log("first write acknowledged by the new primary", at: firstAfter) }
        let failedByClass = Dictionary(grouping: entries.failed.values, by: \.name).mapValues(\.count)
        timeline.log("""
            unknown outcomes: \(entries.unknown.count) (\(unknownPresent) applied, \(entries.unknown.count - unknownPresent) \
            not); failed and not applied: \(entries.failed.count) \(failedByClass.isEmpty ? "" : "\(failedByClass)"); \
            reported not applied but present: \(phantoms)
            """)
        Timeline.printLine("""
            acknowledged=\(acknowledged.count) present=\(present) lost=\(lost) duplicated=\(duplicated) \
            unknown=\(entries.unknown.count) resolved=\(resolved) recovery_ms=\(recovery.map(String.init) ?? "none")
            """)
        let unresolved = verified ? entries.unknown.count : 0
        return lost == 0 && duplicated == 0 && phantoms == 0 && unresolved == 0 && recovery != nil
    }
}

/// Tells the writers to finish.
final class StopSignal: Sendable {
    private let raised = Atomic(false)
    var isRaised: Bool { raised.load(ordering: .relaxed) }
    func raise() { raised.store(true, ordering: .relaxed) }
}
