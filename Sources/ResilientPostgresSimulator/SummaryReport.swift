import ResilientPostgresSimulation

/// The simulator's summary: one line when every promise held; otherwise, for each broken promise, how many
/// schedules broke it, the first one (seed and position) with its schedule and evidence, and how to replay it.
struct SummaryReport {
    let text: String

    init(_ summary: Simulation.Summary, seedBase: UInt64) {
        let seconds = Double(summary.elapsed.components.seconds) + Double(summary.elapsed.components.attoseconds) / 1e18
        let rate = Int(Double(summary.schedules) / max(seconds, 0.001))
        var lines = ["\(summary.schedules) schedules (seeds \(seedBase)…\(seedBase &+ UInt64(summary.schedules - 1))) "
            + "in \(Int(seconds * 10) / 10).\(Int(seconds * 10) % 10) s, \(rate)/s: "
            + (summary.failures.isEmpty ? "every promise held" : "\(summary.failures.count) broke a promise")]
        for (invariant, failure, count) in summary.firstFailures {
            lines.append("")
            lines.append("\(invariant.rawValue): broken by \(count) schedule(s); first by schedule #\(failure.index), "
                + "seed \(failure.seed) (replay: make simulate SEED=\(failure.seed))")
            for violation in failure.violations where violation.invariant == invariant {
                lines.append("  \(violation.evidence)")
            }
            lines += failure.schedule.split(separator: "\n").map { "    \($0)" }
        }
        text = lines.joined(separator: "\n")
    }
}
