import ResilientPostgresSimulation

/// The simulator's command line.
struct SimulatorArguments {
    var schedules = 10_000
    var seedBase: UInt64 = UInt64.random(in: 0...UInt64(UInt32.max))
    var seed: UInt64?
    var parallelism = 2
    /// Print every broken promise of every schedule, one a line, instead of the summary.
    var listsAll = false

    init(_ arguments: some Sequence<String>) {
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            if argument == "--list" {
                listsAll = true
                continue
            }
            let value = iterator.next() ?? ""
            switch argument {
            case "--schedules": schedules = Int(value) ?? schedules
            case "--seed-base": seedBase = value == "fixed" ? Simulation.fixedSeedBase : UInt64(value) ?? seedBase
            case "--seed": seed = UInt64(value)
            case "--parallel": parallelism = Int(value) ?? parallelism
            default:
                print("usage: ResilientPostgresSimulator [--schedules N] [--seed-base N|fixed] [--seed N] [--parallel N] [--list]")
            }
        }
    }
}
