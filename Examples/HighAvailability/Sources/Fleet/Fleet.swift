import Foundation
import HASupport
import ResilientPostgres

/// A fleet of app instances (200 `PostgresClient`s, each with a pool of 4, spread over 4 processes) against one
/// server with far fewer connection slots, running a steady workload through a fast restart and an immediate
/// restart (a cluster from `scripts/pg-cluster.sh`, `POSTGRES_FLEET_*`), or through a failover by pg_auto_failover
/// (`POSTGRES_HA_*`), after a warm-up. For each event it prints the time from the server accepting connections
/// again to every instance having been served ("never" if some instance was not within the settling time) and,
/// from the server's log, connection attempts and 53300 refusals per second; then the same rates in the steady state
/// before the first event, and the failed operations. It passes when no operation failed (each has the default 60 s
/// budget) and each event's log holds connection attempts, at most one pool per instance and host a second at the
/// peak (and the formation's own connections besides).
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
        if settings.firstIndex != nil { return try await runShare(settings) }
        let target = try FleetTarget.fromProcess()
        let admin = try client(target.adminConnection)
        try await FleetWorkload.prepare(admin, user: target.user)
        let maxConnections = try await admin.query("SHOW max_connections", options: .readOnly).decode(String.self)
        await admin.shutdown()

        Timeline.printLine("""
            fleet: \(settings.clients) clients in \(min(settings.processes, settings.clients)) processes, pool \
            \(settings.pool) each, \(settings.workers) workers each doing one operation every \(settings.interval), \
            idle timeout \(settings.idleTimeout), connect limit \(settings.connectLimit.map(String.init) ?? "none"), \
            connect jitter \(settings.connectJitter), warm-up \(settings.warmUp), against \
            max_connections=\(maxConnections.first ?? "?")
            """)
        let fleet = try FleetProcesses(settings: settings, connection: target.appConnection)
        // The steady state: the last 10 s of the warm-up, once the pools have filled and idle sessions timed out.
        var steady = Date()...Date()
        var events: [(name: String, start: Date, ready: Date, end: Date)] = []
        do {
            try await Task.sleep(for: settings.warmUp)
            let steadyEnd = Date()
            steady = steadyEnd.addingTimeInterval(-10)...steadyEnd
            for event in target.events {
                let start = Date()
                let ready = try await target.cause(event)
                try await Task.sleep(for: settings.settle)
                events.append((event, start, ready, Date()))
            }
        } catch {
            // The processes would otherwise run on until their standard input closes with this process.
            fleet.terminate()
            throw error
        }
        let results = await fleet.stop()
        try await target.finish()

        // The bound on an event's connect rate: every instance opening its whole pool within one second on each
        // host it tries, and the formation's own connections (see `FleetTarget.connectionFigures`) besides.
        let bound = settings.clients * settings.pool * target.hosts + backgroundAttemptsPerSecond
        var ratesBounded = true
        for event in events {
            let serving = results.wholeFleetServing(after: event.ready, before: event.end, clients: settings.clients)
            // Connects from the event until a second after the whole fleet was served again.
            let window = event.start...(serving.map { max($0.addingTimeInterval(1), event.start) } ?? event.end)
            let figures = try target.connectionFigures(in: window)
            // A figure, not a verdict: in a fleet larger than its server, an instance refused for want of slots may
            // wait out a resource-limit backoff of up to 30 s; what must hold is that no operation failed.
            let servingMS = serving.map { String(Int($0.timeIntervalSince(event.ready) * 1000)) } ?? "never"
            let rates = figures.map { "\($0)" } ?? ""
            Timeline.printLine("fleet \(event.name): whole_fleet_serving_ms=\(servingMS) \(rates)")
            // No connection in the log would mean the log was not read, not that the fleet did not reconnect.
            guard let figures, figures.attempts.peak > 0 else {
                Timeline.printLine("fleet \(event.name): no connection attempt in the server's log")
                ratesBounded = false
                continue
            }
            if figures.attempts.peak > bound {
                Timeline.printLine("fleet \(event.name): \(figures.attempts.peak) attempts a second, above \(bound)")
                ratesBounded = false
            }
        }
        let steadyFigures = try target.connectionFigures(in: steady)
        Timeline.printLine("fleet steady: \(steadyFigures.map { "\($0)" } ?? "(no server log to read)")")
        for (failure, count) in Dictionary(grouping: results.failures, by: { $0 }).mapValues(\.count).prefix(5) {
            Timeline.printLine("  \(count) x \(failure)")
        }
        Timeline.printLine("fleet: operations=\(results.operations) failed=\(results.failures.count)")
        if !results.complete { Timeline.printLine("fleet: a process of the fleet failed") }
        return results.complete && results.operations > 0 && results.failures.isEmpty && ratesBounded
    }

    /// Connection attempts a second that are not the fleet's, at most: a formation's monitor and keepers.
    static let backgroundAttemptsPerSecond = 20

    /// One process's share of the fleet: runs until its standard input closes, then reports what each of its
    /// instances saw on its standard output.
    static func runShare(_ settings: FleetWorkload.Settings) async throws -> Bool {
        guard let connection = ProcessInfo.processInfo.environment["FLEET_CONNECTION"] else { return false }
        let fleet = try FleetWorkload(connection: connection, settings: settings)
        let stop = StopSignal()
        Thread {
            _ = FileHandle.standardInput.readDataToEndOfFile()
            stop.raise()
        }.start()
        await fleet.run(until: stop)
        await fleet.shutdown()
        FileHandle.standardOutput.write(Data(fleet.report.utf8))
        return true
    }

    static func client(_ connection: String) throws -> PostgresClient {
        var configuration = try PostgresClient.Configuration(connection)
        configuration.maxConnections = 1
        configuration.logger.logLevel = .error
        return PostgresClient(configuration: configuration)
    }
}
