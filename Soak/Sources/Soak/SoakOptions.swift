import Foundation

/// What to run, from the command line and the variables `scripts/with-test-servers.sh` exports.
struct SoakOptions {
    var minutes = 5.0
    var restartEvery = 25.0
    var workers = 8
    var warmUp = 10.0
    var port: String
    var clusterScript: String
    var clusterName = "soak"

    static let usage = """
        usage: Soak [--minutes N] [--restart-every SECONDS] [--workers N] [--warm-up SECONDS]
        Run under scripts/with-test-servers.sh with TEST_CLUSTERS=soak (`make soak MINUTES=N`).
        """

    /// Parses the arguments; exits with the usage on a mistake.
    static func parse(_ arguments: [String], environment: [String: String]) -> SoakOptions {
        guard let port = environment["POSTGRES_SOAK_PORT"], let script = environment["POSTGRES_CLUSTER_SCRIPT"] else {
            fail("POSTGRES_SOAK_PORT or POSTGRES_CLUSTER_SCRIPT is not set")
        }
        var options = SoakOptions(port: port, clusterScript: script)
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
