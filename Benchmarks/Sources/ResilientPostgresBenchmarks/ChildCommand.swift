import ArgumentParser
import BenchmarkSupport
import Foundation
import Logging
import NIOWorkloads
import ResilientWorkloads

/// Runs one workload for one system in this process and prints its ``ProcessMeasurement`` as a `RESULT` line.
///
/// The parent starts one child per measurement, so that each peak resident set belongs to one workload and one
/// system, and no system's threads or caches linger into another's run.
struct ChildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "child",
        abstract: "Run one workload for one system and print the measurement (used by `run`).",
        shouldDisplay: false
    )

    /// The prefix of the line that carries the measurement on standard output.
    static let resultPrefix = "RESULT "

    @Option(help: "The system: libpq, postgres-nio or ResilientPostgres.")
    var system: SystemName

    @Option(help: "The workload.")
    var workload: Workload

    func run() throws {
        let startRSS = MemoryUsage.current().residentKiB
        if workload.installsIOThreadsAsGlobalExecutor, system == .resilientPostgres {
            guard ResilientBenchmark.installIOThreadsAsGlobalExecutor() else {
                throw ValidationError("the I/O threads could not be installed as the global executor")
            }
        }
        let (system, workload) = (self.system, self.workload)
        let measurement = try runBlocking { try await Self.measure(system, workload, startRSS: startRSS) }
        let json = try JSONEncoder().encode(measurement)
        print(Self.resultPrefix + String(decoding: json, as: UTF8.self))
    }

    private static func measure(
        _ system: SystemName, _ workload: Workload, startRSS: Int
    ) async throws -> ProcessMeasurement {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let settings = try ServerSettings.fromEnvironment()
        let runner: any BenchmarkSystem =
            switch system {
            case .libpq: LibPQBenchmark(settings: settings)
            case .postgresNIO: NIOBenchmark(settings: settings)
            case .resilientPostgres: ResilientBenchmark(settings: settings)
            }
        do {
            let run = try await runner.run(workload)
            return ProcessMeasurement(run, peakRSSKiB: MemoryUsage.current().peakResidentKiB, startRSSKiB: startRSS)
        } catch let error as WorkloadUnavailable {
            return .unavailable(error.description, startRSSKiB: startRSS)
        }
    }
}
