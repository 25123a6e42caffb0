import Foundation
import ResilientPostgres

/// A pg_auto_failover formation (a monitor, two nodes) failed over through `scripts/ha-cluster.sh` and watched
/// through its monitor, whose view is the engine's own: which node it reports as accepting writes, and when.
public final class Formation: Sendable {
    /// How the primary is failed over.
    public enum FailoverKind: String, CaseIterable, Sendable {
        /// The primary's postgres and keeper killed with SIGKILL: the node crashes.
        case crash
        /// The primary's keeper stopped and its port black-holed: clients' packets vanish.
        case partition
        /// `pg_autoctl perform switchover`: a planned change of primary.
        case switchover
    }

    /// One failover as the monitor reported it.
    public struct Failover: Sendable {
        public var kind: FailoverKind
        public var oldPrimary: String
        public var newPrimary: String
        /// The port of the new primary, which `inet_server_port()` returns on it.
        public var newPrimaryPort: Int
        /// When the failure was caused.
        public var caused: ContinuousClock.Instant
        /// When the monitor first reported the new primary as accepting writes.
        public var reported: ContinuousClock.Instant
    }

    private let script: Script
    private let monitor: PostgresClient

    public init(_ environment: FormationEnvironment) throws {
        script = Script(path: environment.script)
        var configuration = try PostgresClient.Configuration(
            "host=127.0.0.1 port=\(environment.monitorPort) user=postgres dbname=pg_auto_failover target_session_attrs=any"
        )
        configuration.maxConnections = 1
        configuration.logger.logLevel = .error
        monitor = PostgresClient(configuration: configuration)
    }

    /// The node the monitor reports as accepting writes (`single`, `wait_primary` or `primary`, reached and
    /// assigned), or nil between two primaries.
    public func writableNode() async throws -> (name: String, port: Int)? {
        try await monitor.query("""
            SELECT nodename, nodeport FROM pgautofailover.node
            WHERE reportedstate IN ('single', 'wait_primary', 'primary') AND goalstate = reportedstate
            """, options: .readOnly).decode((String, Int).self).first.map { (name: $0.0, port: $0.1) }
    }

    /// Causes a failover of `kind` and returns once the monitor reports another node as accepting writes (polled
    /// every 10 ms, so `reported` is within that of the engine's own report). Throws as soon as the script fails,
    /// and after `limit` if no new primary was reported by then, so that a formation that never fails over ends
    /// the run instead of stalling it.
    public func failOver(_ kind: FailoverKind, limit: Duration = .seconds(150)) async throws -> Failover {
        guard let old = try await writableNode() else { throw NoPrimary() }
        let caused = ContinuousClock.now
        typealias Report = (node: (name: String, port: Int), at: ContinuousClock.Instant)
        let (node, reported) = try await withThrowingTaskGroup(of: Report?.self) { group in
            group.addTask {
                try await self.script.run("fail", kind.rawValue)
                return nil
            }
            group.addTask {
                while true {
                    if let node = try await self.writableNode(), node.name != old.name {
                        return (node, ContinuousClock.now)
                    }
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
            group.addTask {
                try await Task.sleep(for: limit)
                throw NoNewPrimary(kind: kind, limit: limit)
            }
            var reported: Report?
            var scriptEnded = false
            // Both the monitor's report and the script's end are needed; the first error ends the wait.
            while let result = try await group.next() {
                if let result { reported = result } else { scriptEnded = true }
                if scriptEnded, let reported {
                    group.cancelAll()
                    return reported
                }
            }
            throw NoNewPrimary(kind: kind, limit: limit)
        }
        return Failover(
            kind: kind, oldPrimary: old.name, newPrimary: node.name, newPrimaryPort: node.port, caused: caused,
            reported: reported
        )
    }

    /// A change of a node's state, as the monitor recorded it (`pg_autoctl show events`).
    public struct Event: Sendable {
        public var at: Date
        public var node: String
        public var port: Int
        public var reportedState: String
        public var goalState: String
        public var description: String

        public init(at: Date, node: String, port: Int, reportedState: String, goalState: String, description: String) {
            self.at = at
            self.node = node
            self.port = port
            self.reportedState = reportedState
            self.goalState = goalState
            self.description = description
        }
    }

    /// The monitor's events since `date`, oldest first: every state a node reported or was assigned, with why.
    public func events(since date: Date) async throws -> [Event] {
        try await monitor.query("""
            SELECT eventtime, nodename, nodeport, reportedstate::text, goalstate::text, coalesce(description, '')
            FROM pgautofailover.event WHERE eventtime >= \(date) ORDER BY eventid
            """, options: .readOnly).decode((Date, String, Int, String, String, String).self).map {
            Event(at: $0.0, node: $0.1, port: $0.2, reportedState: $0.3, goalState: $0.4, description: $0.5)
        }
    }

    /// A span of time in which a node accepted writes with no synchronous standby while another node was being
    /// promoted: writes it acknowledged then need not be on the new primary, and its demotion discards them.
    public struct UnprotectedWrites: Sendable {
        public var node: String
        public var port: Int
        /// When the monitor assigned the node `wait_primary` during the promotion; synchronous replication goes off
        /// once the node has reached it, a moment later.
        public var from: Date
        /// When the node reported itself demoted, if it did.
        public var until: Date?
    }

    /// The spans in `events` in which a primary accepted writes that the failover under way would discard.
    ///
    /// pg_auto_failover can do this during a switchover (its issue 774): it assigns the primary `draining` and the
    /// standby `prepare_promotion`, and a heartbeat of the primary that comes before it has drained makes the
    /// monitor see no healthy standby in the quorum and assign the primary `wait_primary`, which turns synchronous
    /// replication off, while the standby stops replicating and is promoted. The old primary keeps committing,
    /// and acknowledging, until it is demoted and rewound. No client can tell those acknowledgements from others.
    public static func unprotectedWrites(in events: [Event]) -> [UnprotectedWrites] {
        var goals: [String: String] = [:]
        var spans: [UnprotectedWrites] = []
        for event in events {
            goals[event.node] = event.goalState
            let promoting = goals.contains { node, goal in
                node != event.node && (goal == "prepare_promotion" || goal == "stop_replication")
            }
            let open = spans.lastIndex { $0.node == event.node && $0.until == nil }
            if event.goalState == "wait_primary", promoting, open == nil {
                spans.append(UnprotectedWrites(node: event.node, port: event.port, from: event.at, until: nil))
            } else if event.reportedState == "demoted", let open {
                spans[open].until = event.at
            }
        }
        return spans
    }

    /// Brings the old primary back (restarts its keeper, opens its port) and waits until it is a secondary.
    public func rejoin() async throws {
        try await script.run("rejoin")
    }

    public func shutdown() async {
        await monitor.shutdown()
    }

    struct NoNewPrimary: Error, CustomStringConvertible {
        var kind: FailoverKind
        var limit: Duration
        var description: String { "no new primary within \(limit) of a \(kind.rawValue)" }
    }

    struct NoPrimary: Error, CustomStringConvertible {
        var description: String { "the monitor reports no node accepting writes" }
    }
}
