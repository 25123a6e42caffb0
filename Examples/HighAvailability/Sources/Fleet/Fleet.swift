import Foundation
import HASupport
import ResilientPostgres

/// A fleet of app instances (200 `PostgresClient`s, each with a pool of 4) against one server with far fewer
/// connection slots, running a steady workload through a fast restart and an immediate restart (a cluster from
/// `scripts/pg-cluster.sh`, `POSTGRES_FLEET_*`), or through a failover by pg_auto_failover (`POSTGRES_HA_*`).
/// For each event it prints the failed operations (0 expected: each has the default 60 s budget), the time from
/// the server accepting connections again to every instance having been served, and, from the server's log,
/// connection attempts and 53300 refusals per second.
///
/// usage: see `FleetWorkload.Settings.usage`.
@main
struct Fleet {
    static func main() async {
        guard let settings = FleetWorkload.Settings.parse(Array(CommandLine.arguments.dropFirst())) else {
            FileHandle.standardError.write(Data((FleetWorkload.Settings.usage + "\n").utf8))
            exit(2)
        }
        do {
            exit(try await run(settings) ? 0 : 1)
        } catch {
            Timeline.printLine("fleet failed: \(String(reflecting: error))")
            exit(1)
        }
    }

    static func run(_ settings: FleetWorkload.Settings) async throws -> Bool {
        let target = try FleetTarget.fromProcess()
        let admin = try client(target.adminConnection)
        try await FleetWorkload.prepare(admin, user: target.user)
        let maxConnections = try await admin.query("SHOW max_connections", options: .readOnly).decode(String.self)
        await admin.shutdown()

        let fleet = try FleetWorkload(connection: target.appConnection, settings: settings)
        let stop = StopSignal()
        let started = Date()
        Timeline.printLine("""
            fleet: \(settings.clients) clients, pool \(settings.pool) each, \(settings.workers) workers each doing one \
            operation every \(settings.interval), idle timeout \(settings.idleTimeout), connect limit \
            \(settings.connectLimit.map(String.init) ?? "none"), against max_connections=\(maxConnections.first ?? "?")
            """)
        let running = Task { await fleet.run(until: stop) }
        var passed = true
        try await Task.sleep(for: .seconds(8))
        let steadyEnd = Date()
        for event in target.events {
            let eventStart = Date()
            let ready = try await target.cause(event)
            let deadline = ContinuousClock.now + .seconds(60)
            var serving = fleet.wholeFleetServing(after: ready)
            while serving == nil, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
                serving = fleet.wholeFleetServing(after: ready)
            }
            try await Task.sleep(for: .seconds(3))
            let window = eventStart...(serving ?? Date()).addingTimeInterval(1)
            let line = try target.connectionFigures(in: window)
            let servingMS = serving.map { String(Int($0.timeIntervalSince(ready) * 1000)) } ?? "never"
            Timeline.printLine("fleet \(event): whole_fleet_serving_ms=\(servingMS) \(line)")
            passed = passed && serving != nil
        }
        stop.raise()
        await running.value
        await fleet.shutdown()
        try await target.finish()
        let failures = fleet.failures
        let steady = try target.connectionFigures(in: started.addingTimeInterval(settings.interval / .seconds(1))...steadyEnd)
        Timeline.printLine("fleet steady: \(steady)")
        for (failure, count) in Dictionary(grouping: failures, by: { $0 }).mapValues(\.count).prefix(5) {
            Timeline.printLine("  \(count) x \(failure)")
        }
        Timeline.printLine("fleet: operations=\(fleet.operations) failed=\(failures.count)")
        return passed && failures.isEmpty
    }

    static func client(_ connection: String) throws -> PostgresClient {
        var configuration = try PostgresClient.Configuration(connection)
        configuration.maxConnections = 1
        configuration.logger.logLevel = .error
        return PostgresClient(configuration: configuration)
    }
}
