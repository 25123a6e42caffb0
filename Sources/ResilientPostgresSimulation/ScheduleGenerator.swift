import PostgresPolicy

/// Draws a ``Schedule`` from a seed: the same seed gives the same schedule, on any machine.
struct ScheduleGenerator {
    private var random: SplitMix64
    private var nextEffect = 1
    private let seed: UInt64

    init(seed: UInt64) {
        self.seed = seed
        self.random = SplitMix64(seed: seed)
    }

    /// The schedule for the seed.
    mutating func make() -> Schedule {
        let configuration = SimulatedConfiguration(
            maxConnections: pick([1, 2, 3, 10]),
            budget: chance(0.6) ? .seconds(60) : pick([.seconds(10), .seconds(3)]),
            livenessCheckAfterIdle: pick([.seconds(30), .seconds(1), .zero]),
            connectTimeout: pick([.seconds(10), .seconds(2)]),
            throttled: chance(0.7),
            maxConcurrentConnects: pick([1, 2, .max]),
            connectJitter: chance(0.3) ? .seconds(1) : .zero
        )
        var operations: [PlannedOperation] = []
        let callers = Int.random(in: 1...4, using: &random)
        for caller in 0..<callers {
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                operations.append(makeOperation(id: operations.count, caller: caller))
            }
        }
        var windows: [FaultWindow] = []
        var switches: [Duration] = []
        if chance(0.35) {
            let start = milliseconds(0...20_000)
            let length = pick([milliseconds(500...5_000), milliseconds(5_000...30_000), milliseconds(65_000...100_000)])
            let kind = pick([FaultWindow.Kind.down, .starting, .tooManyClients, .blackHole])
            windows.append(FaultWindow(kind: kind, start: start, end: start + length))
        }
        if chance(0.15) {
            let at = milliseconds(0...20_000)
            switches.append(at)
            if chance(0.5) {
                let length = pick([milliseconds(5_000...30_000), milliseconds(65_000...100_000)])
                windows.append(FaultWindow(kind: .firstHostHung, start: at, end: at + length))
            }
        }
        let shutdownAt: Duration? = chance(0.08) ? milliseconds(0...30_000) : nil
        return Schedule(
            seed: seed, configuration: configuration, operations: operations, windows: windows,
            primarySwitches: switches, shutdownAt: shutdownAt
        )
    }

    private mutating func makeOperation(id: Int, caller: Int) -> PlannedOperation {
        let kind: OperationKind
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<18: kind = .execute(effect: effect())
        case 18..<28: kind = .query
        case 28..<43: kind = .transaction(effects: (0..<Int.random(in: 1...2, using: &random)).map { _ in effect() })
        case 43..<68: kind = .withConnection(steps: leaseSteps())
        case 68..<76: kind = .batch(effects: (0..<Int.random(in: 1...3, using: &random)).map { _ in effect() })
        case 76..<81: kind = .executeVerified(effect: effect())
        case 81..<86: kind = .executeCommitVerified(effect: effect())
        case 86..<90: kind = .transactionVerified(effects: (0..<Int.random(in: 1...2, using: &random)).map { _ in effect() })
        case 90..<95:
            kind = .transactionCommitVerified(effects: (0..<Int.random(in: 1...2, using: &random)).map { _ in effect() })
        default: kind = .executeUnknownStatement
        }
        let safety: DeclaredSafety
        switch kind {
        case .query: safety = chance(0.7) ? .readOnly : .write
        case .withConnection where kind.effects.isEmpty: safety = pick([.readOnly, .write, .idempotent])
        default: safety = chance(0.7) ? .write : .idempotent
        }
        let delay = pick([.zero, milliseconds(0...2_000), milliseconds(0...10_000), milliseconds(30_000...45_000)])
        let cancelAfter: Duration? = chance(0.1) ? pick([.zero, milliseconds(0...500), milliseconds(0...5_000)]) : nil
        var statementFaults: [StatementFaultPlan?] = []
        if chance(0.55) {
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                statementFaults.append(chance(0.35) ? nil : statementFault())
            }
        }
        var connectFaults: [ConnectFaultPlan?] = []
        if chance(0.2) {
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                connectFaults.append(chance(0.3) ? nil : connectFault())
            }
        }
        return PlannedOperation(
            id: id, caller: caller, delay: delay, kind: kind, safety: safety, cancelAfter: cancelAfter,
            statementFaults: statementFaults, connectFaults: connectFaults
        )
    }

    private mutating func leaseSteps() -> [LeaseStep] {
        var steps: [LeaseStep] = []
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<40: steps.append(.insert(effect()))
            case 40..<58: steps.append(.set)
            case 58..<74: steps.append(.lock(Int.random(in: 1...1_000_000, using: &random)))
            case 74..<92: steps.append(.select)
            default: steps.append(.executeUnknownStatement)
            }
        }
        if chance(0.08) { steps.append(.beginLeftOpen) }
        return steps
    }

    private mutating func statementFault() -> StatementFaultPlan {
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<10: return .lostBeforeSend
        case 10..<24: return .lostAfterSend(applied: chance(0.5), after: noticedAfter())
        case 24..<30: return .immediateShutdown(applied: chance(0.5), after: noticedAfter())
        case 30..<40: return .server(sqlState: "57P01", fatal: true)
        case 40..<52: return .server(sqlState: "40001", fatal: false)
        case 52..<60: return .server(sqlState: "40P01", fatal: false)
        case 60..<64: return .server(sqlState: "55P03", fatal: false)
        case 64..<67: return .server(sqlState: "53200", fatal: false)
        case 67..<70: return .server(sqlState: "26000", fatal: false)
        case 70..<78: return .primarySwitch
        case 78..<92: return .slow(pick([milliseconds(1...500), milliseconds(500...8_000), milliseconds(20_000...70_000)]))
        default: return .hang
        }
    }

    /// How long a lost connection takes to notice: at once (a reset), or when keepalives give up.
    private mutating func noticedAfter() -> Duration {
        chance(0.6) ? .zero : milliseconds(100...5_000)
    }

    private mutating func connectFault() -> ConnectFaultPlan {
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<30: return .refused
        case 30..<42: return .hung
        case 42..<57: return .slow(pick([milliseconds(1...500), milliseconds(500...15_000)]))
        case 57..<77: return .tooManyClients
        case 77..<90: return .starting
        default: return .shuttingDown
        }
    }

    private mutating func effect() -> Int {
        defer { nextEffect += 1 }
        return nextEffect
    }

    private mutating func chance(_ probability: Double) -> Bool {
        Double.random(in: 0..<1, using: &random) < probability
    }

    private mutating func pick<Element>(_ choices: [Element]) -> Element {
        choices[Int.random(in: 0..<choices.count, using: &random)]
    }

    private mutating func milliseconds(_ range: ClosedRange<Int64>) -> Duration {
        .milliseconds(Int64.random(in: range, using: &random))
    }
}
