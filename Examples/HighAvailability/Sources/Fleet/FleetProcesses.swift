import Foundation
import Synchronization

/// The fleet's instances spread over processes of this same executable, each running its share with
/// `--first-index`, as separate app instances would run: the connect rate the server sees is then bounded by the
/// server and the machine, not by one process's I/O threads. A process runs until its standard input closes, then
/// reports what each of its instances saw (`FleetWorkload.report`).
final class FleetProcesses: @unchecked Sendable {
    // Unchecked: `processes` and `inputs` (not Sendable) are set in `init` and only read after.
    private let processes: [Process]
    private let inputs: [Pipe]
    /// Each process's report, written by the thread that reads its output.
    private let reports: Reports
    private let group = DispatchGroup()

    /// What every instance saw: each one's successes in order, and the failures.
    struct Results {
        var successes: [Int: [Date]] = [:]
        var failures: [String] = []
        /// Whether every process ran and reported.
        var complete = true

        /// When every one of `clients` instances had succeeded at least once between `instant` and `end`, or nil if
        /// some did not.
        func wholeFleetServing(after instant: Date, before end: Date, clients: Int) -> Date? {
            var latest = instant
            for index in 0..<clients {
                guard let first = successes[index]?.first(where: { $0 >= instant }), first <= end else { return nil }
                latest = max(latest, first)
            }
            return latest
        }

        var operations: Int { successes.values.reduce(0) { $0 + $1.count } + failures.count }
    }

    /// Starts `settings.processes` processes sharing `settings.clients` instances, connecting with `connection`.
    init(settings: FleetWorkload.Settings, connection: String) throws {
        let count = min(settings.processes, settings.clients)
        var processes: [Process] = []
        var inputs: [Pipe] = []
        let reports = Reports(count: count)
        let group = self.group
        var first = 0
        for number in 0..<count {
            let share = settings.clients / count + (number < settings.clients % count ? 1 : 0)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
            process.arguments = settings.arguments(clients: share, firstIndex: first)
            var environment = ProcessInfo.processInfo.environment
            environment["FLEET_CONNECTION"] = connection
            process.environment = environment
            let input = Pipe()
            let output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            try process.run()
            processes.append(process)
            inputs.append(input)
            first += share
            group.enter()
            let thread = Thread {
                let report = output.fileHandleForReading.readDataToEndOfFile()
                reports.data.withLock { $0[number] = report }
                group.leave()
            }
            thread.start()
        }
        self.processes = processes
        self.inputs = inputs
        self.reports = reports
    }

    /// Tells every process to stop, waits up to `limit` for their reports (an instance's operation under way may
    /// take its whole budget), ends the processes still running after that, and gathers what they reported.
    func stop(within limit: Duration = .seconds(120)) async -> Results {
        for input in inputs { try? input.fileHandleForWriting.close() }
        let group = self.group
        let seconds = Double(limit.components.seconds)
        let reported = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: group.wait(timeout: .now() + seconds) == .success)
            }
        }
        if !reported { terminate() }
        for process in processes { process.waitUntilExit() }
        var results = Results()
        results.complete = reported
            && processes.allSatisfy { $0.terminationReason == .exit && $0.terminationStatus == 0 }
        for report in reports.data.withLock({ $0 }) {
            for line in String(decoding: report, as: UTF8.self).split(separator: "\n") {
                let fields = line.split(separator: " ", maxSplits: 2)
                guard fields.count == 3, let index = Int(fields[1]) else { continue }
                if fields[0] == "s", let seconds = Double(fields[2]) {
                    results.successes[index, default: []].append(Date(timeIntervalSince1970: seconds))
                } else if fields[0] == "f" {
                    results.failures.append(String(fields[2]))
                }
            }
        }
        return results
    }

    /// Ends the processes still running, at once: a termination signal, and a kill for those still running 5 s
    /// later. For a run that ends early (an event failed) and for processes that do not stop when told.
    func terminate() {
        for process in processes where process.isRunning { process.terminate() }
        let end = Date().addingTimeInterval(5)
        while processes.contains(where: \.isRunning), Date() < end { Thread.sleep(forTimeInterval: 0.1) }
        for process in processes where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        for process in processes { process.waitUntilExit() }
    }
}

/// What each process reported, in the order the processes were started.
private final class Reports: Sendable {
    let data: Mutex<[Data]>
    init(count: Int) { data = Mutex(Array(repeating: Data(), count: count)) }
}
