import Foundation
import Logging
import ResilientPostgres

/// Runs mixed operations through `PostgresClient` against the `soak` cluster while restarting it periodically (or
/// against a pg_auto_failover formation while failing it over), then
/// reports memory and descriptors at the start (after a warm-up) and at the end, the failures by error class, and
/// whether the data add up.
@main
struct Soak {
    static func main() async throws {
        let options = SoakOptions.parse(Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
        let beforeClient = ProcessStats.now()
        let logCounts = CountingLogHandler.Counts()
        var configuration = try PostgresClient.Configuration(options.target.connection)
        configuration.maxConnections = options.workers
        configuration.logger = Logger(label: "ResilientPostgres") { _ in CountingLogHandler(counts: logCounts) }
        let client = PostgresClient(configuration: configuration)
        let tally = Tally()
        let workload = Workload(client: client, tally: tally)
        print("soak: \(options.minutes) min on \(options.target.connection), \(options.workers) workers, restart every \(options.restartEvery) s")

        try await workload.prepare()
        await runWorkers(workload, count: options.workers, for: .seconds(options.warmUp))
        // The restarts run the cluster script through Foundation's Process, whose first use opens descriptors of
        // its own (a run loop's epoll, eventfd and timers, a socket pair) for good: open them before counting.
        _ = await Restarter.run(options.target.harmlessCommand)
        try await workload.fillPool(sessions: options.workers)
        let start = ProcessStats.now()
        let warmUpOperations = tally.succeededCount + tally.failedCount
        print("soak: after \(options.warmUp) s of warm-up (\(warmUpOperations) operations): \(start)")

        let deadline = ContinuousClock.now.advanced(by: .seconds(options.minutes * 60))
        let restarter = Restarter(disruptions: Restarter.disruptions(for: options.target),
                                  interval: .seconds(options.restartEvery))
        async let restarts = restarter.run(until: deadline)
        await runWorkers(workload, count: options.workers, until: deadline)
        let done = await restarts

        try await workload.fillPool(sessions: options.workers)
        let end = ProcessStats.now()
        let (balances, counter) = try await workload.finalState()
        await client.shutdown()
        let afterShutdown = ProcessStats.now()

        let report = SoakReport(
            tally: tally, warmUpOperations: warmUpOperations, restarts: done, logCounts: logCounts.all,
            beforeClient: beforeClient, start: start, end: end, afterShutdown: afterShutdown,
            balances: balances, counter: counter
        )
        report.print()
        if !report.passed { exit(1) }
    }

    static func runWorkers(_ workload: Workload, count: Int, for duration: Duration) async {
        await runWorkers(workload, count: count, until: .now.advanced(by: duration))
    }

    static func runWorkers(_ workload: Workload, count: Int, until deadline: ContinuousClock.Instant) async {
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<count {
                group.addTask { await workload.runWorker(until: deadline) }
            }
        }
    }
}
