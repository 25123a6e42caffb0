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
struct ChildCommand: AsyncParsableCommand {
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

    func run() async throws {
        let startRSS = MemoryUsage.current().residentKiB
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
        let measurement: ProcessMeasurement
        do {
            let run = try await runner.run(workload)
            measurement = ProcessMeasurement(
                operations: run.operations, seconds: run.seconds,
                peakRSSKiB: MemoryUsage.current().peakResidentKiB, startRSSKiB: startRSS,
                rssAfterShortRunKiB: run.rssAfterShortRunKiB, rssAfterLongRunKiB: run.rssAfterLongRunKiB
            )
        } catch let error as WorkloadUnavailable {
            measurement = .unavailable(error.description, startRSSKiB: startRSS)
        }
        let json = try JSONEncoder().encode(measurement)
        print(Self.resultPrefix + String(decoding: json, as: UTF8.self))
    }
}
