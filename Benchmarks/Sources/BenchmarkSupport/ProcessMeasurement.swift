/// What one child process measured: one workload, one system, one round.
public struct ProcessMeasurement: Codable, Sendable {
    /// The operations the timed part performed (queries, rows or policy operations).
    public var operations: Int
    /// The seconds the timed part took.
    public var seconds: Double
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

    public init(
        operations: Int, seconds: Double, peakRSSKiB: Int, startRSSKiB: Int,
        rssAfterShortRunKiB: Int? = nil, rssAfterLongRunKiB: Int? = nil
    ) {
        self.operations = operations
        self.seconds = seconds
        self.peakRSSKiB = peakRSSKiB
        self.startRSSKiB = startRSSKiB
        self.rssAfterShortRunKiB = rssAfterShortRunKiB
        self.rssAfterLongRunKiB = rssAfterLongRunKiB
    }

    /// A measurement that says the system does not offer the workload.
    public static func unavailable(_ reason: String, startRSSKiB: Int) -> ProcessMeasurement {
        var measurement = ProcessMeasurement(operations: 0, seconds: 0, peakRSSKiB: 0, startRSSKiB: startRSSKiB)
        measurement.unavailable = reason
        return measurement
    }

    /// Operations per second.
    public var operationsPerSecond: Double { seconds > 0 ? Double(operations) / seconds : 0 }
}

/// A workload a system cannot run in this build.
public struct WorkloadUnavailable: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
