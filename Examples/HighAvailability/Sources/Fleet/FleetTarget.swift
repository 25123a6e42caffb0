import Foundation
import HASupport
import ResilientPostgres

/// The server the fleet runs against, and how its events are caused.
enum FleetTarget {
    /// A cluster of `scripts/pg-cluster.sh`, restarted fast, then immediately.
    case cluster(port: String, log: String, script: Script)
    /// A pg_auto_failover formation, failed over by a crash of its primary.
    case formation(FormationEnvironment, Formation)

    static func fromProcess() throws -> FleetTarget {
        let environment = ProcessInfo.processInfo.environment
        if let port = environment["POSTGRES_FLEET_PORT"], let log = environment["POSTGRES_FLEET_LOG"],
           let script = environment["POSTGRES_CLUSTER_SCRIPT"] {
            return .cluster(port: port, log: log, script: Script(path: script))
        }
        guard let formation = FormationEnvironment.fromProcess() else { exit(2) }
        return .formation(formation, try Formation(formation))
    }

    var user: String { ProcessInfo.processInfo.environment["POSTGRES_APP_USER"] ?? "app" }

    var adminConnection: String {
        switch self {
        case .cluster(let port, _, _): "host=127.0.0.1 port=\(port) user=postgres dbname=postgres"
        case .formation(let environment, _): environment.connectionString(user: "postgres")
        }
    }

    var appConnection: String {
        switch self {
        case .cluster(let port, _, _): "host=127.0.0.1 port=\(port) user=app password=app-secret dbname=postgres"
        case .formation(let environment, _): environment.connectionString()
        }
    }

    /// The hosts of the app's connection string: libpq tries each in turn, and each try is an attempt in a log.
    var hosts: Int {
        switch self {
        case .cluster: 1
        case .formation: 2
        }
    }

    var events: [String] {
        switch self {
        case .cluster: ["fast-restart", "immediate-restart"]
        case .formation: ["failover"]
        }
    }

    /// Causes `event`; returns when the server accepted connections again (read from its log), or when the
    /// monitor reported the new primary.
    func cause(_ event: String) async throws -> Date {
        switch self {
        case .cluster(_, let log, let script):
            let before = Date()
            try await script.run("restart", "fleet", event == "fast-restart" ? "fast" : "immediate")
            guard let ready = try ServerLog(paths: [log]).ready.last, ready >= before.addingTimeInterval(-1) else {
                throw NotReady()
            }
            return ready
        case .formation(_, let formation):
            let failover = try await formation.failOver(.crash)
            return Date().addingTimeInterval(-((ContinuousClock.now - failover.reported) / .seconds(1)))
        }
    }

    /// The server logs to read: the cluster's, or every node's of the formation (`data/log/` under each node of
    /// `POSTGRES_HA_STATE_DIR`), as the failover moves the connections from one node to the other.
    var logPaths: [String] {
        switch self {
        case .cluster(_, let log, _): return [log]
        case .formation:
            guard let state = ProcessInfo.processInfo.environment["POSTGRES_HA_STATE_DIR"] else { return [] }
            return ["node1", "node2"].flatMap { node -> [String] in
                let directory = "\(state)/\(node)/data/log"
                let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
                return names.filter { $0.hasSuffix(".log") }.map { "\(directory)/\($0)" }
            }
        }
    }

    /// Connection attempts and 53300 refusals per second within `window`, from the server's log; nil when there is
    /// no log to read. A formation's figures include its own connections: the monitor's health checks (one a second
    /// to each node), the keepers' and the standby's replication connection.
    func connectionFigures(in window: ClosedRange<Date>) throws -> ConnectionFigures? {
        let paths = logPaths
        guard !paths.isEmpty else { return nil }
        let log = try ServerLog(paths: paths)
        return ConnectionFigures(
            attempts: ServerLog.rate(of: log.attempts, in: window),
            refusals: ServerLog.rate(of: log.refusals, in: window)
        )
    }

    /// What the server's log says about connections within a window.
    struct ConnectionFigures: CustomStringConvertible {
        var attempts: (peak: Int, mean: Double)
        var refusals: (peak: Int, mean: Double)

        var description: String {
            """
            attempts_per_s_peak=\(attempts.peak) attempts_per_s_mean=\(String(format: "%.1f", attempts.mean)) \
            refusals_53300_per_s_peak=\(refusals.peak) \
            refusals_53300_per_s_mean=\(String(format: "%.1f", refusals.mean))
            """
        }
    }

    /// Brings a failed-over formation's old primary back.
    func finish() async throws {
        if case .formation(_, let formation) = self {
            try await formation.rejoin()
            await formation.shutdown()
        }
    }

    struct NotReady: Error, CustomStringConvertible {
        var description: String { "the server's log shows no restart" }
    }
}
