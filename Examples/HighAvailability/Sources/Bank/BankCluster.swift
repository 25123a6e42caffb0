import Foundation
import HASupport
import ResilientPostgres
import Synchronization

/// The cluster the bank runs against, and the disruptions it goes through, whichever script started it:
/// - a pg_auto_failover formation (`scripts/ha-cluster.sh run`): the engine fails the primary over (a crash, a
///   partition, a switchover) and the old primary rejoins as a secondary;
/// - a scripted primary and standby (`demo-primary`, `demo-standby` of `scripts/with-test-servers.sh`), as
///   `make demo` runs them: the primary killed (`-m immediate`), the standby promoted, the old primary rebuilt as a
///   standby of the new one, with synchronous replication as HA services run it;
/// - the fleet's small server (`fleet`, `max_connections=50`): restarted fast, then immediately.
enum BankCluster {
    case formation(FormationEnvironment, Formation)
    case scriptedPair(ScriptedPair)
    case restarts(port: String, script: Script)

    /// The cluster the process was started with; nil (after saying how to start one) when there is none.
    static func fromProcess() throws -> BankCluster? {
        let environment = ProcessInfo.processInfo.environment
        if let primary = environment["POSTGRES_DEMO_PRIMARY_PORT"],
           let standby = environment["POSTGRES_DEMO_STANDBY_PORT"],
           let script = environment["POSTGRES_CLUSTER_SCRIPT"] {
            return .scriptedPair(ScriptedPair(
                nodes: [("demo-primary", primary), ("demo-standby", standby)], script: Script(path: script)
            ))
        }
        if let port = environment["POSTGRES_FLEET_PORT"], let script = environment["POSTGRES_CLUSTER_SCRIPT"] {
            return .restarts(port: port, script: Script(path: script))
        }
        guard let formation = FormationEnvironment.fromProcess() else { return nil }
        return .formation(formation, try Formation(formation))
    }

    /// What the runs go through, in turn.
    var disruptions: [String] {
        switch self {
        case .formation(let environment, _): environment.failoverKinds.map(\.rawValue)
        case .scriptedPair: ["scripted-failover"]
        case .restarts: ["fast-restart", "immediate-restart"]
        }
    }

    func connection(user: String, password: String?) -> String {
        switch self {
        case .formation(let environment, _):
            return environment.connectionString(user: user, password: password)
        case .scriptedPair(let pair):
            let ports = pair.ports.joined(separator: ",")
            return "host=127.0.0.1,127.0.0.1 port=\(ports) dbname=postgres target_session_attrs=read-write user=\(user)"
                + (password.map { " password=\($0)" } ?? "")
        case .restarts(let port, _):
            return "host=127.0.0.1 port=\(port) dbname=postgres user=\(user)"
                + (password.map { " password=\($0)" } ?? "")
        }
    }

    /// Makes every acknowledged commit durable through the disruptions: on the scripted pair, commits wait for
    /// the standby; on the restarted server, for the local flush (the test clusters turn `synchronous_commit`
    /// off for speed, and an immediate restart would lose what was not flushed).
    func prepare() async throws {
        switch self {
        case .formation: break
        case .scriptedPair(let pair): try await pair.replicateSynchronously()
        case .restarts(let port, _): try await ScriptedPair.setUpCommits(port: port, synchronousStandby: false)
        }
    }

    /// Causes `disruption` and returns once the cluster is whole again (the old primary rejoined as a standby, the
    /// server restarted).
    func disrupt(_ disruption: String) async throws {
        switch self {
        case .formation(_, let formation):
            guard let kind = Formation.FailoverKind(rawValue: disruption) else {
                throw UnknownDisruption(name: disruption)
            }
            _ = try await formation.failOver(kind)
            try await formation.rejoin()
        case .scriptedPair(let pair):
            try await pair.failOver()
        case .restarts(_, let script):
            try await script.run("restart", "fleet", disruption == "fast-restart" ? "fast" : "immediate")
        }
    }

    func shutdown() async {
        if case .formation(_, let formation) = self { await formation.shutdown() }
    }

    /// A disruption this cluster cannot cause: a run that skipped it would pass without having been disrupted.
    struct UnknownDisruption: Error {
        var name: String
    }
}

/// A primary and a streaming standby run by `scripts/pg-cluster.sh`, failed over and back by it: the primary is
/// killed, the standby promoted, and the old primary rebuilt as the new one's standby on its old port.
final class ScriptedPair: Sendable {
    private let nodes: Mutex<[(name: String, port: String)]>
    private let script: Script

    /// `nodes`: the primary first, then its standby.
    init(nodes: [(String, String)], script: Script) {
        self.nodes = Mutex(nodes.map { (name: $0.0, port: $0.1) })
        self.script = script
    }

    var ports: [String] { nodes.withLock { $0.map(\.port) } }

    /// The primary killed (`-m immediate`: a crash as clients see it), the standby promoted, the old primary
    /// rebuilt as its standby, and synchronous replication set up again.
    func failOver() async throws {
        let (primary, standby) = nodes.withLock { ($0[0], $0[1]) }
        try await script.run("stop", primary.name, "immediate")
        try await script.run("promote", standby.name)
        nodes.withLock { $0 = [standby, primary] }
        // Flushed commits first: the new primary comes from a standby, whose settings are the test clusters' own.
        try await Self.setUpCommits(port: standby.port, synchronousStandby: false)
        try await script.run("start-standby", primary.name, standby.name)
        try await replicateSynchronously()
    }

    /// Makes commits on the primary wait for the standby, once it streams.
    func replicateSynchronously() async throws {
        let primary = nodes.withLock { $0[0] }
        try await Self.setUpCommits(port: primary.port, synchronousStandby: true)
    }

    /// Sets `synchronous_commit` on the server at `port`, and with `synchronousStandby` makes commits wait for a
    /// standby, returning once one replicates synchronously; throws ``NoSynchronousStandby`` if none does within
    /// 60 s (a standby that never streams would otherwise hold the run for good).
    static func setUpCommits(port: String, synchronousStandby: Bool) async throws {
        var configuration = try PostgresClient.Configuration(
            "host=127.0.0.1 port=\(port) user=postgres dbname=postgres target_session_attrs=any"
        )
        configuration.maxConnections = 1
        configuration.logger.logLevel = .error
        let admin = PostgresClient(configuration: configuration)
        do {
            try await admin.execute("ALTER SYSTEM SET synchronous_commit = 'on'")
            if synchronousStandby { try await admin.execute("ALTER SYSTEM SET synchronous_standby_names = '*'") }
            try await admin.execute("SELECT pg_reload_conf()")
            let end = ContinuousClock.now.advanced(by: .seconds(60))
            while synchronousStandby, try await admin.query(
                "SELECT count(*)::int FROM pg_stat_replication WHERE sync_state = 'sync'", options: .readOnly
            ).decode(Int.self).first ?? 0 == 0 {
                guard .now < end else { throw NoSynchronousStandby(port: port) }
                try await Task.sleep(for: .milliseconds(20))
            }
        } catch {
            await admin.shutdown()
            throw error
        }
        await admin.shutdown()
    }

    /// No standby replicated synchronously from the primary at `port` in time.
    struct NoSynchronousStandby: Error {
        var port: String
    }
}
