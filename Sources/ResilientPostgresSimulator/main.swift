import ResilientPostgresSimulation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `make simulate`: runs seeded random fault schedules against the client and reports the promises they broke.
///
///     ResilientPostgresSimulator [--schedules N] [--seed-base N|fixed] [--seed N] [--parallel N] [--list]
///
/// `--seed` replays one schedule verbosely. Quiet unless something breaks; exits 1 when something did.
let arguments = SimulatorArguments(CommandLine.arguments.dropFirst())

if let seed = arguments.seed {
    let (report, failed) = await Simulation.replay(seed: seed)
    print(report)
    exit(failed ? 1 : 0)
}

let summary = await Simulation.run(count: arguments.schedules, seedBase: arguments.seedBase,
                                   parallelism: arguments.parallelism)
if arguments.listsAll {
    for failure in summary.failures.sorted(by: { $0.index < $1.index }) {
        for violation in failure.violations {
            print("#\(failure.index)\tseed \(failure.seed)\t\(violation.invariant.rawValue)\t\(violation.evidence)")
        }
    }
}
print(SummaryReport(summary, seedBase: arguments.seedBase).text)
exit(summary.failures.isEmpty ? 0 : 1)
