import Foundation

/// Restarts the cluster every so often with `pg-cluster.sh stop NAME fast|immediate` and `start-existing NAME`,
/// alternating the two stop modes.
struct Restarter: Sendable {
    let script: String
    let cluster: String
    let interval: Duration

    struct Restart: Sendable {
        var mode: String
        var downtime: Duration
        var succeeded: Bool
        /// The soak's resident memory in kB, just after the restart.
        var residentKB: Int
    }

    /// Restarts until `deadline`, then returns what it did; the server is running when it returns.
    func run(until deadline: ContinuousClock.Instant) async -> [Restart] {
        var restarts: [Restart] = []
        while ContinuousClock.now.advanced(by: interval) < deadline {
            try? await Task.sleep(for: interval)
            let mode = restarts.count.isMultiple(of: 2) ? "fast" : "immediate"
            let started = ContinuousClock.now
            let stopped = await Self.run([script, "stop", cluster, mode])
            let restarted = await Self.run([script, "start-existing", cluster])
            let downtime = ContinuousClock.now - started
            let stats = ProcessStats.now()
            restarts.append(Restart(mode: mode, downtime: downtime, succeeded: stopped == 0 && restarted == 0,
                                    residentKB: stats.residentKB))
            let seconds = Double(downtime.components.seconds) + Double(downtime.components.attoseconds) / 1e18
            print("soak: restart \(restarts.count) (\(mode)) took \(String(format: "%.1f", seconds)) s; \(stats)")
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
