import BenchmarkSupport

/// Every measurement of a run, by workload and system, in the order they were taken.
struct Results {
    private(set) var measurements: [Workload: [SystemName: [ProcessMeasurement]]] = [:]
    /// Why a system could not run a workload.
    private(set) var unavailable: [Workload: [SystemName: String]] = [:]
    /// The `rss_growth` measurement of each system.
    var growth: [SystemName: ProcessMeasurement] = [:]
    /// The `stream_rss` measurement of each system.
    var streamMemory: [SystemName: ProcessMeasurement] = [:]

    mutating func record(_ measurement: ProcessMeasurement, _ workload: Workload, _ system: SystemName) {
        if let reason = measurement.unavailable {
            unavailable[workload, default: [:]][system] = reason
        } else {
            measurements[workload, default: [:]][system, default: []].append(measurement)
        }
    }

    /// Whether an earlier round found the workload unavailable for the system (no need to ask again).
    func isUnavailable(_ workload: Workload, _ system: SystemName) -> Bool {
        unavailable[workload]?[system] != nil
    }

    /// The median operations per second of each system that ran the workload.
    func medians(_ workload: Workload) -> [SystemName: Double] {
        (measurements[workload] ?? [:]).compactMapValues { $0.map(\.operationsPerSecond).median }
    }

    /// The median of the rounds' values of one system on one workload, where measured.
    func median(_ workload: Workload, _ system: SystemName, _ value: (ProcessMeasurement) -> Double?) -> Double? {
        (measurements[workload]?[system] ?? []).compactMap(value).median
    }

    /// The spread of the rounds, (max − min) / median, of one system on one workload.
    func spread(_ workload: Workload, _ system: SystemName) -> Double? {
        let rates = (measurements[workload]?[system] ?? []).map(\.operationsPerSecond)
        guard let low = rates.min(), let high = rates.max(), let middle = rates.median, middle > 0 else { return nil }
        return (high - low) / middle
    }

    /// The largest peak resident set of any round, in MiB.
    func peakRSS(_ workload: Workload, _ system: SystemName) -> Double? {
        (measurements[workload]?[system] ?? []).map { Double($0.peakRSSKiB) / 1024 }.max()
    }

    /// The smallest resident set any child had when it started (before connecting), in MiB.
    func startRSS(_ system: SystemName) -> Double? {
        measurements.values.compactMap { $0[system] }.joined().map { Double($0.startRSSKiB) / 1024 }.min()
    }
}
