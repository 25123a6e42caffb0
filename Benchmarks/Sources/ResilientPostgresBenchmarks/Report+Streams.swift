import BenchmarkSupport
import Foundation

extension Report {
    /// The peak resident set after streaming 100k rows and after 5M, per system, with the flat-memory verdict.
    var streamMemoryTable: String {
        let short = Workload.streamRSSShortRun
        let long = Workload.streamRSSLongRun
        var rows = [["system", "peak after \(short / 1000)k", "peak after \(long / 1_000_000)M", "ratio", "flat", "rows/s"]]
        for system in SystemName.allCases {
            guard let measurement = results.streamMemory[system],
                  let shortKiB = measurement.rssAfterShortRunKiB, let longKiB = measurement.rssAfterLongRunKiB,
                  shortKiB > 0 else { continue }
            rows.append([
                system.rawValue, Self.mebibytes(Double(shortKiB) / 1024), Self.mebibytes(Double(longKiB) / 1024),
                String(format: "%.3f", Double(longKiB) / Double(shortKiB)),
                MemoryTargets.isStreamFlat(shortKiB: shortKiB, longKiB: longKiB) ? "yes" : "NO",
                Self.number(measurement.operationsPerSecond),
            ])
        }
        guard rows.count > 1 else { return "Streaming memory: not measured (runs with stream_rows)." }
        return """
            Streaming memory: peak resident set (VmHWM, MiB) of one process after streaming \(short) rows of \
            stream_rows's query, then after streaming \(long) more (flat: within 10 %):
            """ + "\n" + Self.table(rows)
    }
}
