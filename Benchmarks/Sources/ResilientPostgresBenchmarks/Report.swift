import BenchmarkSupport
import Foundation

/// The tables and JSON lines a run prints.
struct Report {
    let results: Results
    let workloads: [Workload]
    let pinned: Bool

    private let systems = SystemName.allCases

    /// Everything, ready to print.
    var text: String {
        [throughputTable, targetTable, floorTable, costTable, memoryTable, growthTable, streamMemoryTable, jsonLines]
            .filter { !$0.isEmpty }.joined(separator: "\n\n")
    }

    /// Medians per workload and system, with ResilientPostgres's ratios to the other two.
    var throughputTable: String {
        var rows = [["workload", "unit"] + systems.map(\.rawValue) + ["RP/libpq", "RP/postgres-nio"]]
        for workload in workloads where !workload.isFloor {
            let medians = medians(workload)
            var row = [workload.rawValue, workload.unit]
            for system in systems { row.append(cell(workload, system, medians[system])) }
            row.append(ratio(medians[.resilientPostgres], medians[.libpq], workload))
            row.append(ratio(medians[.resilientPostgres], medians[.postgresNIO], workload))
            rows.append(row)
        }
        let title = "Medians of the rounds (± the rounds' spread, (max − min) / median); ratios are ResilientPostgres's "
            + "throughput over the other's (higher is better for ResilientPostgres)"
        return title + ":\n" + Self.table(rows)
    }

    /// The project's targets against the medians.
    var targetTable: String {
        var rows = [["workload", "target", "measured", "met"]]
        for target in Target.all where workloads.contains(target.workload) {
            let medians = medians(target.workload)
            let switches = Dictionary(uniqueKeysWithValues: systems.compactMap { system in
                let workload = system == .resilientPostgres ? target.workload : target.workload.comparedWith
                return results.median(workload, system) { $0.contextSwitchesPerOperation }.map { (system, $0) }
            })
            let measured: String
            switch target.kind {
            case .versusLibPQ: measured = ratio(medians[.resilientPostgres], medians[.libpq], target.workload)
            case .versusPostgresNIO: measured = ratio(medians[.resilientPostgres], medians[.postgresNIO], target.workload)
            case .nanosecondsPerOperation: measured = medians[.resilientPostgres].map { Self.number(1e9 / $0) + " ns/op" } ?? "n/a"
            case .contextSwitchesOverLibPQ:
                measured = switches[.resilientPostgres].map { ours in
                    String(format: "%.2f cs/op", ours) + (switches[.libpq].map { String(format: " (libpq %.2f)", $0) } ?? "")
                } ?? "n/a"
            }
            let met = target.isMet(by: target.kind == .contextSwitchesOverLibPQ ? switches : medians)
                .map { $0 ? "yes" : "MISSED" } ?? "n/a"
            rows.append([target.workload.rawValue, target.label, measured, met])
        }
        let note = pinned ? "" : " (the targets are stated for pinned runs: make bench ARGS=--pin)"
        return "Targets\(note):\n" + Self.table(rows)
    }

    /// The floors (libpq's `seq_param` driven from a Swift task with nothing else) beside libpq's own run and
    /// ResilientPostgres's runs of the same statements; empty when no floor ran.
    var floorTable: String {
        guard workloads.contains(where: \.isFloor) else { return "" }
        let runs: [(String, Workload, SystemName)] = [
            ("libpq from C, blocking (seq_param)", .seqParam, .libpq),
            ("libpq from a task on the global executor, each wait resumed by an epoll thread (seq_param_floor)",
             .seqParamFloor, .libpq),
            ("ResilientPostgres, a task on the global executor (seq_param)", .seqParam, .resilientPostgres),
            ("libpq from a task on the epoll thread, its task executor (seq_param_floor_thread)",
             .seqParamFloorOnThread, .libpq),
            ("ResilientPostgres inside withSessionThread (seq_param_thread)", .seqParamOnSessionThread,
             .resilientPostgres),
        ]
        let libpq = results.medians(.seqParam)[.libpq]
        var rows = [["seq_param driven by", "queries/s", "vs libpq", "CPU µs", "cs"]]
        for (label, workload, system) in runs where workloads.contains(workload) {
            let median = results.medians(workload)[system]
            let cpu = results.median(workload, system) { $0.cpuMicrosecondsPerOperation }
            let switches = results.median(workload, system) { $0.contextSwitchesPerOperation }
            rows.append([
                label, cell(workload, system, median), ratio(median, libpq, workload),
                cpu.map { String(format: "%.2f", $0) } ?? "n/a", switches.map { String(format: "%.2f", $0) } ?? "n/a",
            ])
        }
        return """
            The floors: libpq's seq_param driven from a Swift task with nothing else (no pool, retry, deadline or \
            cancellation). A client whose statements wait the same way costs at least its floor's CPU a query; \
            single rounds' ratios are noisier than that. Ratios of the medians; CPU µs and cs per operation of the \
            client process, as in the next table:
            """ + "\n" + Self.table(rows)
    }

    /// The client's CPU time and context switches per operation: what the wall time does not show on a busy machine.
    var costTable: String {
        var rows = [["workload"] + systems.flatMap { ["\($0.rawValue) µs", "cs"] }]
        for workload in workloads where workload != .policy && !workload.isFloor {
            var row = [workload.rawValue]
            for system in systems {
                let cpu = results.median(workload, system) { $0.cpuMicrosecondsPerOperation }
                let switches = results.median(workload, system) { $0.contextSwitchesPerOperation }
                row += [cpu.map { String(format: "%.2f", $0) } ?? "n/a", switches.map { String(format: "%.2f", $0) } ?? "n/a"]
            }
            rows.append(row)
        }
        return """
            Client cost per operation (medians): CPU µs, user + system of every thread of the client process during \
            the timed part (getrusage), and cs, its context switches (voluntary + involuntary). The server's CPU is \
            not included.
            """ + "\n" + Self.table(rows)
    }

    /// Peak resident set per workload and system.
    var memoryTable: String {
        var rows = [["workload"] + systems.map(\.rawValue) + ["RP/libpq", "≤ \(MemoryTargets.peakRatioToLibPQ.formatted())×"]]
        for workload in workloads where workload != .policy && !workload.isFloor {
            let peaks = systems.map { results.peakRSS(workload, $0) }
            var row = [workload.rawValue] + peaks.map { $0.map(Self.mebibytes) ?? "n/a" }
            if let ours = peaks[2], let theirs = peaks[0], theirs > 0 {
                row += [String(format: "%.2f×", ours / theirs), ours / theirs <= MemoryTargets.peakRatioToLibPQ ? "yes" : "MISSED"]
            } else {
                row += ["n/a", "n/a"]
            }
            rows.append(row)
        }
        let starts = systems.map { "\($0.rawValue) \(results.startRSS($0).map(Self.mebibytes) ?? "n/a") MiB" }
        return """
            Peak resident set, MiB: VmHWM of a fresh child process that ran only that workload for that system \
            (connect, warm-up, timed run), the largest of the rounds. Every child is the same executable, so each \
            figure includes the Swift runtime and the libraries it maps; a child's resident set at start, before \
            connecting: \(starts.joined(separator: ", ")).
            """ + "\n" + Self.table(rows)
    }

    /// The resident set after 20k and after 200k sequential queries.
    var growthTable: String {
        var rows = [["system", "after \(Workload.rssShortRun / 1000)k", "after \(Workload.rssLongRun / 1000)k", "growth", "flat", "queries/s"]]
        for system in systems {
            guard let measurement = results.growth[system],
                  let short = measurement.rssAfterShortRunKiB, let long = measurement.rssAfterLongRunKiB else { continue }
            rows.append([
                system.rawValue, Self.mebibytes(Double(short) / 1024), Self.mebibytes(Double(long) / 1024),
                String(format: "%+.2f", Double(long - short) / 1024),
                MemoryTargets.isFlat(shortKiB: short, longKiB: long) ? "yes" : "NO",
                Self.number(measurement.operationsPerSecond),
            ])
        }
        guard rows.count > 1 else { return "Resident set growth: not measured." }
        return """
            Resident set (VmRSS, MiB) after \(Workload.rssShortRun) and after \(Workload.rssLongRun) sequential \
            `SELECT $1::int4 + 1` in one process (flat: grew at most 1 MiB or 5 %):
            """ + "\n" + Self.table(rows)
    }

    /// One JSON line per workload and system that ran it.
    var jsonLines: String {
        var lines: [String] = []
        for workload in workloads {
            let medians = results.medians(workload)
            for system in systems {
                guard let median = medians[system], let peak = results.peakRSS(workload, system) else { continue }
                let rate = String(format: "%.1f", median)
                let rss = String(format: "%.1f", peak)
                lines.append(
                    #"{"workload":"\#(workload.rawValue)","system":"\#(system.rawValue)","pinned":\#(pinned),"#
                        + #""ops_per_s":\#(rate),"peak_rss_mib":\#(rss)}"#
                )
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Every system's median throughput for `workload`: ResilientPostgres's own, the others' on the workload it is
    /// compared with.
    private func medians(_ workload: Workload) -> [SystemName: Double] {
        var medians = results.medians(workload.comparedWith)
        medians[.resilientPostgres] = results.medians(workload)[.resilientPostgres]
        return medians
    }

    // MARK: - Cells

    private func cell(_ workload: Workload, _ system: SystemName, _ median: Double?) -> String {
        if !system.runs(workload) { return "—" }
        guard let median else { return results.isUnavailable(workload, system) ? "not available" : "n/a" }
        let value = workload == .policy ? Self.number(1e9 / median) : Self.number(median)
        guard let spread = results.spread(workload, system) else { return value }
        return value + String(format: " ±%.0f%%", spread * 100)
    }

    private func ratio(_ ours: Double?, _ theirs: Double?, _ workload: Workload) -> String {
        guard let ours, let theirs, theirs > 0 else { return "—" }
        return String(format: "%.2f×", ours / theirs)
    }

    // MARK: - Formatting

    /// A number with one decimal below 100 and none above.
    static func number(_ value: Double) -> String {
        value < 100 ? String(format: "%.1f", value) : String(format: "%.0f", value)
    }

    static func mebibytes(_ value: Double) -> String { String(format: "%.1f", value) }

    /// Left-aligned columns separated by two spaces.
    static func table(_ rows: [[String]]) -> String {
        let widths = (0..<(rows.map(\.count).max() ?? 0)).map { column in
            rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0
        }
        return rows.map { row in
            row.enumerated().map { index, text in
                index == row.count - 1 ? text : text.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
