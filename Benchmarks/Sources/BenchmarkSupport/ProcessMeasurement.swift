/// What one child process measured: one workload, one system, one round.
public struct ProcessMeasurement: Codable, Sendable {
    /// The operations the timed part performed (queries, rows or policy operations).
    public var operations: Int
    /// The seconds the timed part took.
    public var seconds: Double
    /// The process's CPU seconds (user and system, every thread) during the timed part, when measured.
    public var cpuSeconds: Double?
    /// The process's context switches during the timed part, when measured.
    public var contextSwitches: Int?
    /// The process's peak resident set (VmHWM) at the end, in KiB.
    public var peakRSSKiB: Int
    /// The process's resident set when it started, before connecting, in KiB.
    public var startRSSKiB: Int
    /// For `rss_growth`: the resident set after the short run, in KiB.
    public var rssAfterShortRunKiB: Int?
    /// For `rss_growth`: the resident set after the long run, in KiB.
    public var rssAfterLongRunKiB: Int?
    /// Why the system could not run the workload, when it could not (the measurement is then empty).
    public var unavailable: String?

    /// A measurement of a finished run, with the process's memory readings.
    public init(_ run: WorkloadRun, peakRSSKiB: Int, startRSSKiB: Int) {
        self.operations = run.operations
        self.seconds = run.seconds
        self.cpuSeconds = run.cpuSeconds
        self.contextSwitches = run.contextSwitches
        self.peakRSSKiB = peakRSSKiB
        self.startRSSKiB = startRSSKiB
        self.rssAfterShortRunKiB = run.rssAfterShortRunKiB
        self.rssAfterLongRunKiB = run.rssAfterLongRunKiB
    }

    /// A measurement that says the system does not offer the workload.
    public static func unavailable(_ reason: String, startRSSKiB: Int) -> ProcessMeasurement {
        var measurement = ProcessMeasurement(
            WorkloadRun(operations: 0, seconds: 0), peakRSSKiB: 0, startRSSKiB: startRSSKiB
        )
        measurement.unavailable = reason
        return measurement
    }

    /// Operations per second.
    public var operationsPerSecond: Double { seconds > 0 ? Double(operations) / seconds : 0 }

    /// The process's CPU microseconds per operation, when measured.
    public var cpuMicrosecondsPerOperation: Double? {
        guard let cpuSeconds, operations > 0 else { return nil }
        return cpuSeconds * 1e6 / Double(operations)
    }

    /// The process's context switches per operation, when measured.
    public var contextSwitchesPerOperation: Double? {
        guard let contextSwitches, operations > 0 else { return nil }
        return Double(contextSwitches) / Double(operations)
    }
}

/// A workload a system cannot run in this build.
public struct WorkloadUnavailable: Error, CustomStringConvertible {
    /// Why the system cannot run the workload.
    public let description: String
    /// An error that says `description`.
    public init(_ description: String) { self.description = description }
}
