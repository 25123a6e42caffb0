import BenchmarkSupport
import Foundation

/// Runs `ResilientPostgresBenchmarks child` for one system and workload, and reads back its measurement.
enum ChildProcess {
    /// This executable's path, so that the child is exactly the same binary.
    static let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()

    /// Runs the child to completion; its standard error goes straight to ours.
    static func measure(_ system: SystemName, _ workload: Workload) throws -> ProcessMeasurement {
        let process = Process()
        process.executableURL = executable
        process.arguments = ["child", "--system", system.rawValue, "--workload", workload.rawValue]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw ChildFailure("\(workload.rawValue) for \(system.rawValue) failed (status \(process.terminationStatus)): \(text)")
        }
        guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix(ChildCommand.resultPrefix) }) else {
            throw ChildFailure("\(workload.rawValue) for \(system.rawValue) printed no result: \(text)")
        }
        return try JSONDecoder().decode(ProcessMeasurement.self, from: Data(line.dropFirst(ChildCommand.resultPrefix.count).utf8))
    }
}

/// A child process failed or printed no measurement.
struct ChildFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
