import ArgumentParser
import BenchmarkSupport

/// Creates the benchmark's tables, for running `child` alone (under callgrind, say); `run` does it itself.
struct SetupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "setup",
        abstract: "Create the benchmark's tables on the server (run does this itself)."
    )

    func run() throws {
        let version = try RunCommand.prepareServer(try ServerSettings.fromEnvironment())
        print("created bench_rows and bench_insert on PostgreSQL \(version / 10000).\(version % 10000)")
    }
}
