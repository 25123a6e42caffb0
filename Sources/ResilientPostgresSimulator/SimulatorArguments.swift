/// The simulator's command line.
struct SimulatorArguments {
    /// The seed base `fixed` stands for: the sample CI runs.
    static let fixedSeedBase: UInt64 = 20_250_101

    var schedules = 10_000
    var seedBase: UInt64 = UInt64.random(in: 0...UInt64(UInt32.max))
    var seed: UInt64?
    var parallelism = 4

    init(_ arguments: some Sequence<String>) {
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            let value = iterator.next() ?? ""
            switch argument {
            case "--schedules": schedules = Int(value) ?? schedules
            case "--seed-base": seedBase = value == "fixed" ? Self.fixedSeedBase : UInt64(value) ?? seedBase
            case "--seed": seed = UInt64(value)
            case "--parallel": parallelism = Int(value) ?? parallelism
            default:
                print("usage: ResilientPostgresSimulator [--schedules N] [--seed-base N|fixed] [--seed N] [--parallel N]")
            }
        }
    }
}
