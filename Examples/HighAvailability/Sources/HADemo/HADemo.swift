import Foundation
import HASupport
import ResilientPostgres
import Synchronization

/// Writers insert rows with unique keys through the formation's URI while pg_auto_failover fails the primary over,
/// once for each kind of failure (a crash, a partition, a switchover), each time waiting for the old primary to
/// rejoin as a secondary. Afterwards every acknowledged write must be present exactly once (but those the engine
/// discarded itself, counted apart), nothing twice, and nothing reported as not applied may be there. The last line:
/// `acknowledged=N present=P lost=0 duplicated=0 unknown=K discarded_by_engine=D failovers=3 slowest_recovery_ms=M`,
/// where D counts the writes pg_auto_failover itself acknowledged and then discarded, apart from the lost ones (see
/// `Formation.unprotectedWrites(in:)`: a switchover that races with the primary's heartbeat), and a recovery is
/// the time from the monitor reporting the new primary to the first write acknowledged after that by the new
/// primary (each insert returns the port of the server that ran it). When the check fails, the lines before it
/// say which server acknowledged the writes found missing, over which span of the run, and list the monitor's
/// events since the start, each at its time in the run.
@main
struct HADemo {
    static let writers = 8

    static func main() async {
        guard let environment = FormationEnvironment.fromProcess() else { exit(2) }
        let rounds = Int(CommandLine.arguments.dropFirst().first ?? "1") ?? 1
        do {
            exit(try await run(environment, rounds: rounds) ? 0 : 1)
        } catch {
            Timeline.printLine("HA demo failed: \(String(reflecting: error))")
            exit(1)
        }
    }

    static func run(_ environment: FormationEnvironment, rounds: Int) async throws -> Bool {
        let timeline = Timeline()
        let formation = try Formation(environment)
        let admin = try adminClient(environment)
        try await admin.execute("DROP TABLE IF EXISTS ha_demo")
        try await admin.execute("CREATE TABLE ha_demo (key text NOT NULL, written_at timestamptz DEFAULT clock_timestamp())")
        try await admin.execute("GRANT SELECT, INSERT ON ha_demo TO \(unsafeRaw: environment.user)")

        var configuration = try PostgresClient.Configuration(environment.connectionString())
        configuration.maxConnections = writers
        configuration.logger.logLevel = .error
        let client = PostgresClient(configuration: configuration)
        let ledger = Ledger()
        let servedBy = Acknowledgements()
        let stop = StopSignal()
        timeline.log("\(writers) writers insert through \(environment.uri)")
        let writing = Task {
            await withTaskGroup(of: Void.self) { group in
                for writer in 1...writers {
                    group.addTask {
                        await write(as: writer, client: client, ledger: ledger, servedBy: servedBy, until: stop)
                    }
                }
            }
        }

        var failovers: [Formation.Failover] = []
        for kind in Array(repeating: environment.failoverKinds, count: rounds).joined() {
            try await Task.sleep(for: .seconds(2))
            timeline.log("failing the primary over: \(kind.rawValue)")
            let failover = try await formation.failOver(kind)
            timeline.log("""
                monitor reports \(failover.newPrimary) as the new primary \
                (\(milliseconds(from: failover.caused, to: failover.reported)) ms after the \(kind.rawValue))
                """, at: failover.reported)
            try await formation.rejoin()
            timeline.log("\(failover.oldPrimary) rejoined as secondary")
            failovers.append(failover)
        }
        try await Task.sleep(for: .seconds(2))
        stop.raise()
        await writing.value
        await client.shutdown()

        let rows = try await admin.query("SELECT key, count(*)::int FROM ha_demo GROUP BY key", options: .readOnly)
        let counts = Dictionary(uniqueKeysWithValues: try rows.decode((String, Int).self))
        await admin.shutdown()
        // What the monitor saw, shown if the check fails.
        let events: Result<[Formation.Event], any Error>
        do {
            events = .success(try await formation.events(since: timeline.startDate))
        } catch {
            events = .failure(error)
        }
        await formation.shutdown()

        let entries = ledger.snapshot
        var check = LedgerCheck(entries, counts: counts)
        let acknowledgements = servedBy.snapshot.sorted { $0.at < $1.at }
        // Writes the engine itself acknowledged and then discarded are not the client's to keep: counted apart.
        let discarded = discardedByTheEngine(
            counts: counts, acknowledgements: acknowledgements,
            spans: Formation.unprotectedWrites(in: (try? events.get()) ?? []), on: timeline
        )
        check.lost -= discarded.count
        var recoveries: [Int?] = []
        for failover in failovers {
            let first = acknowledgements.first { $0.at >= failover.reported && $0.port == failover.newPrimaryPort }?.at
            let recovery = first.map { milliseconds(from: failover.reported, to: $0) }
            recoveries.append(recovery)
            timeline.log("""
                \(failover.kind.rawValue): monitor reported the new primary \
                \(milliseconds(from: failover.caused, to: failover.reported)) ms after the failure; first write \
                acknowledged by it \(recovery.map { "\($0) ms" } ?? "never") after that
                """)
        }
        let failedByClass = Dictionary(grouping: entries.failed.values, by: \.name).mapValues(\.count)
        timeline.log("""
            unknown outcomes: \(check.unknown) (\(check.unknownApplied) applied); failed and not applied: \
            \(entries.failed.count) \(failedByClass.isEmpty ? "" : "\(failedByClass)"); reported not applied but \
            present: \(check.phantoms)
            """)
        if !check.passed {
            explain(
                entries, counts: counts, discarded: discarded, acknowledgements: acknowledgements, events: events,
                on: timeline
            )
        }
        let slowest = recoveries.compactMap { $0 }.max()
        let allRecovered = recoveries.allSatisfy { $0 != nil }
        Timeline.printLine("""
            \(check) discarded_by_engine=\(discarded.count) failovers=\(failovers.count) \
            slowest_recovery_ms=\(allRecovered ? slowest.map(String.init) ?? "none" : "none")
            """)
        return check.passed && allRecovered
    }

    static func adminClient(_ environment: FormationEnvironment) throws -> PostgresClient {
        var configuration = try PostgresClient.Configuration(environment.connectionString(user: "postgres"))
        configuration.maxConnections = 1
        configuration.logger.logLevel = .error
        return PostgresClient(configuration: configuration)
    }

    /// One writer: inserts `w<writer>-<n>` for n = 1, 2, ... until told to stop, recording what it was told and
    /// which server acknowledged each write.
    static func write(
        as writer: Int, client: PostgresClient, ledger: Ledger, servedBy: Acknowledgements, until stop: StopSignal
    ) async {
        var number = 0
        while !stop.isRaised {
            number += 1
            let key = "w\(writer)-\(number)"
            do {
                let port = try await client.query(
                    "INSERT INTO ha_demo (key) VALUES (\(key)) RETURNING inet_server_port()"
                ).decode(Int.self).first
                let now = ContinuousClock.now
                ledger.acknowledge(key, at: now)
                if let port { servedBy.record(key, port: port, at: now) }
            } catch let error as PostgresError {
                ledger.record(key, error: error)
                // A write that gave up (the budget ran out mid-failover) is not a reason to spin.
                try? await Task.sleep(for: .milliseconds(50))
            } catch {
                fatalError("unexpected error: \(error)")
            }
        }
    }
}

/// When each write was acknowledged, and by the server on which port.
final class Acknowledgements: Sendable {
    struct Entry {
        var key: String
        var port: Int
        var at: ContinuousClock.Instant
    }

    private let entries = Mutex([Entry]())

    func record(_ key: String, port: Int, at instant: ContinuousClock.Instant) {
        entries.withLock { $0.append(Entry(key: key, port: port, at: instant)) }
    }

    var snapshot: [Entry] { entries.withLock { $0 } }
}

extension HADemo {
    /// The writes missing afterwards that the engine itself discarded: acknowledged by a node in a span in which
    /// it committed writes the failover under way was bound to discard (``Formation/unprotectedWrites(in:)``), read
    /// from the monitor's own events, and looking like a rewind's work (``RewoundWrites``). Each span is logged,
    /// with what it accounts for. A span the node never closed (it was never demoted, so nothing of it was rewound)
    /// accounts for nothing.
    static func discardedByTheEngine(
        counts: [String: Int],
        acknowledgements: [Acknowledgements.Entry],
        spans: [Formation.UnprotectedWrites],
        on timeline: Timeline
    ) -> Set<String> {
        let written = acknowledgements.map {
            RewoundWrites.Acknowledgement(
                key: $0.key, port: $0.port, milliseconds: timeline.milliseconds(at: $0.at),
                isMissing: counts[$0.key] == nil
            )
        }
        var discarded: Set<String> = []
        for span in spans {
            let from = timeline.milliseconds(at: span.from)
            guard let demoted = span.until.map({ timeline.milliseconds(at: $0) }) else {
                timeline.log("""
                    \(span.node) was assigned wait_primary at \(from) ms while the other node was promoted, and never \
                    reported itself demoted: its missing writes, if any, stay counted as lost
                    """)
                continue
            }
            let rewound = RewoundWrites(port: span.port, from: from, demoted: demoted, acknowledgements: written)
            discarded.formUnion(rewound.discarded)
            timeline.log("""
                \(span.node) was assigned wait_primary (no synchronous standby) at \(from) ms while the other node was \
                promoted, and reported itself demoted at \(demoted) ms: \(rewound.missing.count) of the \
                \(rewound.acknowledged) writes it acknowledged in between are missing, \(rewound.presentAfterFirstMissing) \
                present after the first missing one; \(rewound.discarded.count) counted as discarded by pg_auto_failover \
                (see Formation.unprotectedWrites)
                """)
        }
        return discarded
    }

    /// Says when the writes the check found wrong were acknowledged, and by which server, beside the monitor's
    /// events: enough to tell writes a server acknowledged and then lost (a primary that accepted writes without its
    /// synchronous standby, then rewound) from acknowledgements the client should not have given.
    static func explain(
        _ entries: Ledger.Entries,
        counts: [String: Int],
        discarded: Set<String>,
        acknowledgements: [Acknowledgements.Entry],
        events: Result<[Formation.Event], any Error>,
        on timeline: Timeline
    ) {
        let lost = Set(entries.acknowledged.keys.filter { counts[$0] == nil }).subtracting(discarded)
        let servedBy = Dictionary(grouping: acknowledgements, by: \.port)
        for (port, served) in servedBy.sorted(by: { $0.key < $1.key }) {
            let missing = served.filter { lost.contains($0.key) }
            guard let first = missing.first?.at, let last = missing.last?.at else { continue }
            let span = served.filter { $0.at >= first && $0.at <= last }
            timeline.log("""
                lost: \(missing.count) writes acknowledged by the server on port \(port) from \
                \(timeline.milliseconds(at: first)) ms to \(timeline.milliseconds(at: last)) ms, of the \(span.count) \
                it acknowledged in that span and \(served.count) in all
                """)
        }
        let withoutPort = lost.subtracting(acknowledgements.map(\.key)).count
        if withoutPort > 0 { timeline.log("lost: \(withoutPort) writes acknowledged with no port") }
        switch events {
        case .success(let events):
            timeline.log("the monitor's events since the start:")
            for event in events {
                timeline.log(
                    "  \(event.node): \(event.reportedState) -> \(event.goalState): \(event.description)", at: event.at
                )
            }
        case .failure(let error):
            timeline.log("the monitor's events could not be read: \(error)")
        }
    }
}
