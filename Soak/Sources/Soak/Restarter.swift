import Foundation

/// Disrupts the server every so often, taking the disruptions in turn: against a `pg-cluster.sh` cluster, a stop
/// (fast, then immediate) and `start-existing`; against a pg_auto_failover formation, `ha-cluster.sh fail` (a
/// crash, a switchover, a partition where nft allows) and `rejoin`, which returns once the old primary is a
/// secondary again.
struct Restarter: Sendable {
    /// One kind of disruption: its name and the commands that cause it and bring the server back, run in order.
    struct Disruption: Sendable {
        var mode: String
        var commands: [[String]]
    }

    let disruptions: [Disruption]
    let interval: Duration

    struct Restart: Sendable {
        var mode: String
        var downtime: Duration
        var succeeded: Bool
        /// The soak's resident memory in kB, just after the restart.
        var residentKB: Int
    }

    /// The disruptions for `target`.
    static func disruptions(for target: SoakOptions.Target) -> [Disruption] {
        switch target {
        case .cluster(_, let script, let name):
            return ["fast", "immediate"].map { mode in
                Disruption(mode: mode, commands: [[script, "stop", name, mode], [script, "start-existing", name]])
            }
        case .formation(_, let script, let canPartition):
            let kinds = ["crash", "switchover"] + (canPartition ? ["partition"] : [])
            return kinds.map { kind in
                Disruption(mode: kind, commands: [[script, "fail", kind], [script, "rejoin"]])
            }
        }
    }

    /// Disrupts until `deadline`, then returns what it did; the server is running when it returns.
    func run(until deadline: ContinuousClock.Instant) async -> [Restart] {
        var restarts: [Restart] = []
        while ContinuousClock.now.advanced(by: interval) < deadline {
            try? await Task.sleep(for: interval)
            let disruption = disruptions[restarts.count % disruptions.count]
            let started = ContinuousClock.now
            var succeeded = true
            for command in disruption.commands { succeeded = await Self.run(command) == 0 && succeeded }
            let downtime = ContinuousClock.now - started
            let stats = ProcessStats.now()
            restarts.append(Restart(mode: disruption.mode, downtime: downtime, succeeded: succeeded,
                                    residentKB: stats.residentKB))
            let seconds = Double(downtime.components.seconds) + Double(downtime.components.attoseconds) / 1e18
            print("soak: restart \(restarts.count) (\(disruption.mode)) took \(String(format: "%.1f", seconds)) s; \(stats)")
        }
        return restarts
    }

    /// Runs a command on a thread of its own and returns its exit status.
    static func run(_ command: [String]) async -> Int32 {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: command[0])
                process.arguments = Array(command.dropFirst())
                do {
                    try process.run()
                    process.waitUntilExit()
                    continuation.resume(returning: process.terminationStatus)
                } catch {
                    continuation.resume(returning: -1)
                }
            }
            thread.start()
        }
    }
}
