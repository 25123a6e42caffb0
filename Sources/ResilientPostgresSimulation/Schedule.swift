import PostgresPolicy

/// One randomised test case, fixed by its seed: the client's configuration, the operations callers run, the
/// faults each operation's statements and connects meet, and the faults of the whole database over time.
///
/// A schedule is data only; ``ScheduleGenerator`` draws it from a seed and ``ScheduleRunner`` plays it. Times are
/// offsets from the start of virtual time.
struct Schedule: Sendable {
    /// The seed the schedule was drawn from.
    var seed: UInt64
    var configuration: SimulatedConfiguration
    /// Every operation, numbered from 0; those of one caller run one after another.
    var operations: [PlannedOperation]
    /// Faults of the database as a whole.
    var windows: [FaultWindow]
    /// When the primary moves to the other host.
    var primarySwitches: [Duration]
    /// When the client is shut down while operations may still run, or nil for after the last one ends.
    var shutdownAt: Duration?

    /// The number of callers.
    var callerCount: Int { (operations.map(\.caller).max() ?? -1) + 1 }
}

/// The parts of the client's configuration a schedule varies.
struct SimulatedConfiguration: Sendable, CustomStringConvertible {
    var maxConnections: Int
    var budget: Duration
    var livenessCheckAfterIdle: Duration
    var connectTimeout: Duration
    var throttled: Bool
    /// The most connects the pool makes at once (`Int.max`: no limit).
    var maxConcurrentConnects: Int
    /// How long a wave of connects may be held (`connectJitter`).
    var connectJitter: Duration

    var description: String {
        "maxConnections \(maxConnections), "
            + (maxConcurrentConnects == .max ? "" : "maxConcurrentConnects \(maxConcurrentConnects), ")
            + (connectJitter == .zero ? "" : "connect jitter \(connectJitter.simulated), ")
            + "budget \(budget.simulated), liveness check after \(livenessCheckAfterIdle.simulated), "
            + "connect timeout \(connectTimeout.simulated), throttle \(throttled ? "on" : "off")"
    }
}

/// The API an operation goes through and what it runs.
enum OperationKind: Sendable {
    /// `execute` of `INSERT INTO effects VALUES (e)`.
    case execute(effect: Int)
    /// `query` of `SELECT 1`.
    case query
    /// `transaction` inserting each effect.
    case transaction(effects: [Int])
    /// `withConnection` running the steps on one lease.
    case withConnection(steps: [LeaseStep])
    /// `batch` inserting each effect.
    case batch(effects: [Int])
    /// `execute(_:options:verifyingWith:)` of one insert, verified by a read of the effect.
    case executeVerified(effect: Int)
    /// `transaction(options:verifyingWith:_:)` inserting each effect, verified by a read of the first.
    case transactionVerified(effects: [Int])
    /// `execute` of one insert with `OperationOptions.verifiedCommit`: the client's own commit marker.
    case executeCommitVerified(effect: Int)
    /// `transaction` inserting each effect with `OperationOptions.verifiedCommit`.
    case transactionCommitVerified(effects: [Int])
    /// `execute` of the app's own `EXECUTE nope`: the server answers 26000 every time.
    case executeUnknownStatement

    /// The effects the operation writes when it succeeds.
    var effects: [Int] {
        switch self {
        case .execute(let effect), .executeVerified(let effect), .executeCommitVerified(let effect): [effect]
        case .transaction(let effects), .batch(let effects), .transactionVerified(let effects),
            .transactionCommitVerified(let effects):
            effects
        case .withConnection(let steps): steps.compactMap(\.durableEffect)
        case .query, .executeUnknownStatement: []
        }
    }

    /// Whether the operation commits with the client's commit marker (`OperationOptions.verifiedCommit`).
    var verifiesCommit: Bool {
        switch self {
        case .executeCommitVerified, .transactionCommitVerified: true
        default: false
        }
    }
}

/// One statement of a `withConnection` lease.
enum LeaseStep: Sendable, CustomStringConvertible {
    /// An autocommit insert.
    case insert(Int)
    /// `SET application_name = 'op<n>'`: session state.
    case set
    /// `SELECT pg_advisory_lock(n)`: session state.
    case lock(Int)
    /// `SELECT 1`.
    case select
    /// `EXECUTE nope`, which fails with 26000.
    case executeUnknownStatement
    /// `BEGIN`, left open when the lease ends (always the last step).
    case beginLeftOpen

    /// The effect the step makes durable, if any.
    var durableEffect: Int? {
        if case .insert(let effect) = self { effect } else { nil }
    }

    var description: String {
        switch self {
        case .insert(let effect): "INSERT e\(effect)"
        case .set: "SET"
        case .lock(let key): "LOCK \(key)"
        case .select: "SELECT 1"
        case .executeUnknownStatement: "EXECUTE nope"
        case .beginLeftOpen: "BEGIN (left open)"
        }
    }
}

/// What an operation declares about itself (`OperationOptions`).
enum DeclaredSafety: String, Sendable {
    case write, readOnly, idempotent
}

/// One operation of a caller.
struct PlannedOperation: Sendable {
    var id: Int
    var caller: Int
    /// The virtual time the caller waits after its previous operation ended (or from the start) before this one.
    var delay: Duration
    var kind: OperationKind
    var safety: DeclaredSafety
    /// When the operation's task is cancelled, counted from its start; nil for never.
    var cancelAfter: Duration?
    /// The faults the operation's statements meet, in the order it sends them; nil entries pass.
    var statementFaults: [StatementFaultPlan?]
    /// The faults the operation's own connects meet, in order; nil entries pass.
    var connectFaults: [ConnectFaultPlan?]
}

/// How one statement goes wrong, and whether its effect was applied at the point of the fault.
enum StatementFaultPlan: Sendable, Hashable, CustomStringConvertible {
    /// The connection was gone before the statement was sent.
    case lostBeforeSend
    /// The statement was sent and the connection closed without an answer, noticed `after` this long (at once, or
    /// when keepalives give up); `applied` says whether the server had run it (committed it, for `COMMIT`).
    case lostAfterSend(applied: Bool, after: Duration)
    /// A WARNING 57P01 notice (immediate shutdown), then the connection closed; applied or not.
    case immediateShutdown(applied: Bool, after: Duration)
    /// The server answered with this SQLSTATE (`fatal` closes the session); nothing applied.
    case server(sqlState: SQLState, fatal: Bool)
    /// The primary moves to the other host just before the statement arrives (a failover): it meets 25006 if it
    /// writes.
    case primarySwitch
    /// The statement answers after this long.
    case slow(Duration)
    /// The statement never answers: it ends at its deadline or when cancelled.
    case hang

    var description: String {
        switch self {
        case .lostBeforeSend: "lost before send"
        case .lostAfterSend(let applied, let after):
            "lost after send (\(applied ? "applied" : "not applied"))\(after > .zero ? " after \(after.simulated)" : "")"
        case .immediateShutdown(let applied, let after):
            "57P01 notice then lost (\(applied ? "applied" : "not applied"))\(after > .zero ? " after \(after.simulated)" : "")"
        case .server(let sqlState, let fatal): "\(fatal ? "FATAL" : "ERROR") \(sqlState)"
        case .primarySwitch: "primary switch (25006)"
        case .slow(let duration): "slow \(duration.simulated)"
        case .hang: "hang"
        }
    }
}

/// How one connect goes wrong.
enum ConnectFaultPlan: Sendable, Hashable, CustomStringConvertible {
    case refused
    case hung
    case slow(Duration)
    case tooManyClients
    case starting
    case shuttingDown

    var description: String {
        switch self {
        case .refused: "connect refused"
        case .hung: "connect hung"
        case .slow(let duration): "connect slow \(duration.simulated)"
        case .tooManyClients: "connect 53300"
        case .starting: "connect 57P03 (starting)"
        case .shuttingDown: "connect 57P03 (shutting down)"
        }
    }
}

/// A fault of the whole database over a span of virtual time.
struct FaultWindow: Sendable, CustomStringConvertible {
    enum Kind: Sendable, Hashable {
        /// The server is down: sessions are terminated (57P01) when it starts, connects are refused.
        case down
        /// The server is starting: sessions terminated at the start, connects fail with 57P03.
        case starting
        /// Every connection slot is taken: connects fail with 53300; open sessions carry on.
        case tooManyClients
        /// The network drops everything: connects and statements hang until the window ends.
        case blackHole
        /// The first host listed accepts connections and never answers them; the other host (the primary, after a
        /// switch) is fine.
        case firstHostHung
    }

    var kind: Kind
    var start: Duration
    var end: Duration

    func contains(_ time: Duration) -> Bool { time >= start && time < end }

    var description: String {
        let name: String =
            switch kind {
            case .down: "database down (connects refused, sessions terminated)"
            case .starting: "database starting (57P03)"
            case .tooManyClients: "too many clients (53300 on connect)"
            case .blackHole: "network black hole"
            case .firstHostHung: "first host hung (h1 accepts, never answers)"
            }
        return "\(start.simulated)–\(end.simulated): \(name)"
    }
}

extension Duration {
    /// A short virtual-time reading: `12.345s`.
    var simulated: String {
        let milliseconds = self / .milliseconds(1)
        let sign = milliseconds < 0 ? "-" : ""
        let magnitude = abs(milliseconds)
        let fraction = Int(magnitude.truncatingRemainder(dividingBy: 1000))
        return "\(sign)\(Int(magnitude) / 1000).\(String(repeating: "0", count: 3 - String(fraction).count))\(fraction)s"
    }
}
