import Foundation

/// What to run, from the command line and the variables `scripts/with-test-servers.sh` or `scripts/ha-cluster.sh`
/// exports.
struct SoakOptions {
    /// The server the soak runs against.
    enum Target {
        /// The `soak` cluster of `scripts/pg-cluster.sh`, restarted.
        case cluster(port: String, script: String, name: String)
        /// A pg_auto_failover formation, failed over: its read-write URI, `scripts/ha-cluster.sh`, and whether it
        /// may black-hole a port.
        case formation(uri: String, script: String, canPartition: Bool)

        /// The connection options, as role `postgres`.
        var connection: String {
            switch self {
            case .cluster(let port, _, _): "host=127.0.0.1 port=\(port) user=postgres dbname=postgres"
            case .formation(let uri, _, _): uri + (uri.contains("?") ? "&" : "?") + "user=postgres"
            }
        }

        /// A command that changes nothing, run once before the counts start (see `Soak.main`).
        var harmlessCommand: [String] {
            switch self {
            case .cluster(_, let script, let name): [script, "start-existing", name]
            case .formation(_, let script, _): [script, "state"]
            }
        }
    }

    var minutes = 5.0
    var restartEvery = 25.0
    var workers = 8
    var warmUp = 10.0
    var target: Target

    static let usage = """
        usage: Soak [--minutes N] [--restart-every SECONDS] [--workers N] [--warm-up SECONDS]
        Run under scripts/with-test-servers.sh with TEST_CLUSTERS=soak (`make soak MINUTES=N`), or under
        scripts/ha-cluster.sh run (`make soak HA=1`).
        """

    /// Parses the arguments; exits with the usage on a mistake.
    static func parse(_ arguments: [String], environment: [String: String]) -> SoakOptions {
        let target: Target
        if let uri = environment["POSTGRES_HA_URI"], let script = environment["POSTGRES_HA_SCRIPT"] {
            target = .formation(uri: uri, script: script, canPartition: environment["POSTGRES_HA_CAN_PARTITION"] == "1")
        } else if let port = environment["POSTGRES_SOAK_PORT"], let script = environment["POSTGRES_CLUSTER_SCRIPT"] {
            target = .cluster(port: port, script: script, name: "soak")
        } else {
            fail("neither POSTGRES_HA_URI nor POSTGRES_SOAK_PORT (and their scripts) is set")
        }
        var options = SoakOptions(target: target)
        var remaining = arguments[...]
        while let flag = remaining.popFirst() {
            guard let text = remaining.popFirst(), let value = Double(text), value > 0 else {
                fail("\(flag) needs a positive number")
            }
            switch flag {
            case "--minutes": options.minutes = value
            case "--restart-every": options.restartEvery = value
            case "--workers": options.workers = Int(value)
            case "--warm-up": options.warmUp = value
            default: fail("unknown option \(flag)")
            }
        }
        return options
    }

    private static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("soak: \(message)\n\(usage)\n".utf8))
        exit(2)
    }
}
