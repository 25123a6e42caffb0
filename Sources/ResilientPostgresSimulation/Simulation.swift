import ResilientPostgres
import Synchronization

/// Runs many seeded schedules against the client and collects the promises they broke.
package enum Simulation {
    /// The seed base of the fixed sample CI runs (`make simulate SEED_BASE=fixed`, and the test target's sample).
    package static let fixedSeedBase: UInt64 = 20_250_101

    /// One schedule that broke at least one promise.
    package struct Failure: Sendable {
        /// Its position in the run, from 1: how many schedules it took to find.
        package var index: Int
        package var seed: UInt64
        package var violations: [Violation]
        /// The schedule in a few lines.
        package var schedule: String

        /// The invariants broken, in a fixed order.
        package var invariants: [Invariant] { Array(Set(violations.map(\.invariant))).sorted() }
    }

    /// What a run found.
    package struct Summary: Sendable {
        package var schedules: Int
        package var failures: [Failure]
        /// Real time the run took.
        package var elapsed: Duration

        /// The first failing schedule for each broken invariant.
        package var firstFailures: [(invariant: Invariant, failure: Failure, count: Int)] {
            var first: [Invariant: Failure] = [:]
            var counts: [Invariant: Int] = [:]
            for failure in failures.sorted(by: { $0.index < $1.index }) {
                for invariant in failure.invariants {
                    if first[invariant] == nil { first[invariant] = failure }
                    counts[invariant, default: 0] += 1
                }
            }
            return first.keys.sorted().map { ($0, first[$0]!, counts[$0]!) }
        }
    }

    /// Runs `count` schedules, seeds `seedBase`, `seedBase + 1`, ..., `parallelism` at a time.
    package static func run(count: Int, seedBase: UInt64, parallelism: Int = 2) async -> Summary {
        let started = ContinuousClock.now
        var failures: [Failure] = []
        await withTaskGroup(of: Failure?.self) { group in
            var next = 0
            func submit() {
                guard next < count else { return }
                let index = next + 1
                let seed = seedBase &+ UInt64(next)
                next += 1
                group.addTask { await check(seed: seed, index: index) }
            }
            for _ in 0..<max(1, parallelism) { submit() }
            for await failure in group {
                if let failure { failures.append(failure) }
                submit()
            }
        }
        return Summary(schedules: count, failures: failures, elapsed: started.duration(to: .now))
    }

    /// The schedule of one seed, in a few lines.
    package static func describe(seed: UInt64) -> String {
        var generator = ScheduleGenerator(seed: seed)
        return generator.make().description
    }

    /// Runs the schedule of one seed and checks it; nil when every promise held.
    package static func check(seed: UInt64, index: Int = 1) async -> Failure? {
        var generator = ScheduleGenerator(seed: seed)
        let schedule = generator.make()
        let outcome = await ScheduleRunner(schedule: schedule, tracing: false).run()
        let violations = Checker(schedule: schedule, outcome: outcome).violations()
        guard !violations.isEmpty else { return nil }
        return Failure(index: index, seed: seed, violations: violations, schedule: schedule.description)
    }

    /// Runs the schedule of one seed with a full trace, and describes everything: the schedule, each event of the
    /// model server in virtual time, how each operation ended, and the promises broken.
    package static func replay(seed: UInt64) async -> (report: String, failed: Bool) {
        var generator = ScheduleGenerator(seed: seed)
        let schedule = generator.make()
        let outcome = await ScheduleRunner(schedule: schedule, tracing: true).run()
        let violations = Checker(schedule: schedule, outcome: outcome).violations()
        var lines = [schedule.description, "", "trace (virtual time, operation, event):"]
        for event in outcome.model.trace {
            lines.append("  \(event.time.simulated)  \(event.operation.map { "op \($0)" } ?? "    -")  \(event.text)")
        }
        lines.append("")
        lines.append("outcomes:")
        for record in outcome.records {
            let timing = "\(record.started?.simulated ?? "never") → \(record.ended?.simulated ?? "never")"
            lines.append("  op \(record.id): \(timing): \(record.outcome.map { "\($0)" } ?? "did not end")")
        }
        let applied = outcome.model.applications.sorted { $0.key < $1.key }.map { "e\($0.key)×\($0.value)" }
        lines.append("effects applied: \(applied.isEmpty ? "none" : applied.joined(separator: " "))")
        lines.append("")
        if violations.isEmpty {
            lines.append("every promise held on this run (interleavings vary between runs; the schedule does not)")
        } else {
            lines.append("broken promises:")
            lines += violations.map { "  \($0)" }
        }
        return (lines.joined(separator: "\n"), !violations.isEmpty)
    }
}
