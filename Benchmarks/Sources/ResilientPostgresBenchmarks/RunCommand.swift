import ArgumentParser
import BenchmarkSupport
import Foundation
import LibPQWorkloads

/// Runs every workload for the three systems, interleaved round by round, one child process per measurement,
/// then prints the tables and one JSON line per workload and system.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the benchmark (the default)."
    )

    @Option(help: "Rounds; each runs every workload for every system once. The medians need at least 3.")
    var rounds = 3

    @Option(
        parsing: .upToNextOption,
        help: "The workloads to run (default: all of \(Workload.compared.map(\.rawValue).joined(separator: ", "))).")
    var workloads: [Workload] = Workload.compared

    @Option(parsing: .upToNextOption, help: "The systems to run (default: all three).")
    var systems: [SystemName] = SystemName.allCases

    @Flag(help: "Say that the server and this process run on one CPU (set by scripts/run-benchmarks.sh --pin).")
    var pinned = false

    @Flag(help: "Skip the resident-set growth run (20k vs 200k queries per system).")
    var skipRSSGrowth = false

    func validate() throws {
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
        let status = ProcessStatus.read()
        if pinned, let cpus = status.allowedCPUCount, cpus != 1 {
            throw ValidationError("--pinned, but this process may run on \(cpus) CPUs: run it under taskset -c N")
        }
    }

    func run() throws {
        let settings = try ServerSettings.fromEnvironment()
        let serverVersion = try Self.prepareServer(settings)
        print(header(serverVersion: serverVersion))
        var results = Results()
        for round in 1...rounds {
            for workload in workloads {
                for system in systems where system.runs(workload) && !results.isUnavailable(workload, system) {
                    let measurement = try ChildProcess.measure(system, workload)
                    results.record(measurement, workload, system)
                    progress(round, workload, system, measurement)
                }
            }
        }
        if !skipRSSGrowth {
            for system in systems {
                let measurement = try ChildProcess.measure(system, .rssGrowth)
                results.growth[system] = measurement
                progress(nil, .rssGrowth, system, measurement)
            }
        }
        if workloads.contains(.streamRows) {
            for system in systems {
                let measurement = try ChildProcess.measure(system, .streamRSS)
                results.streamMemory[system] = measurement
                progress(nil, .streamRSS, system, measurement)
            }
        }
        print(Report(results: results, workloads: workloads, pinned: pinned).text)
    }

    /// Creates the tables the workloads use; returns the server's version number.
    static func prepareServer(_ settings: ServerSettings) throws -> Int {
        let session = try LibPQSession(settings.connectionString)
        for statement in benchmarkSchemaSQL {
            try call { lpqw_exec(session.raw, statement, &$0) }
        }
        return session.serverVersion
    }

    private func header(serverVersion: Int) -> String {
        let status = ProcessStatus.read()
        let cpus = status.allowedCPUCount.map(String.init) ?? "?"
        var lines = [
            "ResilientPostgres benchmarks, \(Date().formatted(.iso8601))",
            "server: PostgreSQL \(serverVersion / 10000).\(serverVersion % 10000) on 127.0.0.1 (TCP, no TLS); "
                + "libpq \(lpqw_library_version() / 10000).\(lpqw_library_version() % 10000); "
                + "\(ProcessInfo.processInfo.activeProcessorCount) CPUs online, this process may use \(cpus) "
                + "(\(status["Cpus_allowed_list"] ?? "?")); pinned: \(pinned)",
            "rounds: \(rounds), interleaved (libpq, postgres-nio, ResilientPostgres for each workload, then the next); "
                + "each measurement in a fresh child process, after an untimed connect and warm-up",
        ]
        if rounds < 3 { lines.append("note: fewer than 3 rounds; the medians say little") }
        return lines.joined(separator: "\n") + "\n"
    }

    private func progress(_ round: Int?, _ workload: Workload, _ system: SystemName, _ measurement: ProcessMeasurement) {
        let which = round.map { "round \($0)/\(rounds)" } ?? "memory"
        let what: String
        if let reason = measurement.unavailable {
            what = "not available: \(reason)"
        } else {
            what = String(format: "%.1f ops/s, peak RSS %.1f MiB", measurement.operationsPerSecond,
                          Double(measurement.peakRSSKiB) / 1024)
        }
        let line = "\(which) \(workload.rawValue) \(system.rawValue): \(what)\n"
        FileHandle.standardError.write(Data(line.utf8))
        if measurement.unavailable != nil, round == 1 {
            print("\(workload.rawValue) for \(system.rawValue): not available (\(measurement.unavailable!))")
        }
    }
}
