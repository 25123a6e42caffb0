import PostgresPolicy

/// The six kinds of operation safety the decision table covers: what the operation allows, and how far it got.
enum Situation: String, CaseIterable, Sendable, CustomStringConvertible {
    case nothingSent = "nothing sent"
    case readOnly = "read-only"
    case idempotent = "declared idempotent"
    case beforeCommit = "transaction block before COMMIT"
    case commitInFlight = "COMMIT in flight"
    case autocommitWrite = "autocommit write"

    var safety: OperationSafety {
        switch self {
        case .nothingSent, .autocommitWrite: .autocommitWrite
        case .readOnly: .readOnly
        case .idempotent: .idempotent
        case .beforeCommit, .commitInFlight: .transactionBlock
        }
    }

    /// The phase a failure in the middle of this operation is reported in.
    var phase: FailureFacts.Phase {
        switch self {
        case .nothingSent: .notSent
        case .readOnly, .idempotent, .beforeCommit, .autocommitWrite: .sent
        case .commitInFlight: .commitInFlight
        }
    }

    var description: String { rawValue }
}

/// The shape of a decision a table row expects.
enum ExpectedDecision: Hashable, Sendable, CustomStringConvertible {
    case sameConnection
    case sameConnectionAtOnce
    case reconnect
    case reconnectAtOnce
    case backOff
    case fail(RetryDecision.Reason)

    func matches(_ decision: RetryDecision) -> Bool {
        switch (self, decision) {
        case (.sameConnection, .retrySameConnection): true
        case (.sameConnectionAtOnce, .retrySameConnection(let delay)): delay == .zero
        case (.reconnect, .reconnect): true
        case (.reconnectAtOnce, .reconnect(let delay)): delay == .zero
        case (.backOff, .backOff(let delay)): delay > .zero
        case (.fail(let expected), .fail(let reason)): expected == reason
        default: false
        }
    }

    var description: String {
        switch self {
        case .sameConnection: "retry on the same connection"
        case .sameConnectionAtOnce: "retry on the same connection at once"
        case .reconnect: "reconnect after a wait"
        case .reconnectAtOnce: "reconnect at once"
        case .backOff: "back off"
        case .fail(let reason): "fail (\(reason))"
        }
    }
}

/// Expected decisions for every situation.
struct Expectations: Sendable {
    let bySituation: [Situation: ExpectedDecision]

    subscript(situation: Situation) -> ExpectedDecision { bySituation[situation]! }

    /// The same decision whatever the operation.
    static func all(_ decision: ExpectedDecision) -> Expectations {
        Expectations(bySituation: Dictionary(uniqueKeysWithValues: Situation.allCases.map { ($0, decision) }))
    }

    /// A connection lost after sending with no answer: safe operations reconnect at once; a COMMIT in flight or an
    /// autocommit write is in doubt and fails.
    static let lostInFlight = Expectations(bySituation: [
        .nothingSent: .reconnectAtOnce,
        .readOnly: .reconnectAtOnce,
        .idempotent: .reconnectAtOnce,
        .beforeCommit: .reconnectAtOnce,
        .commitInFlight: .fail(.outcomeUnknown),
        .autocommitWrite: .fail(.outcomeUnknown),
    ])

    /// The server may have applied it whatever the phase: only operations that may be repeated are retried.
    static let inDoubt = Expectations(bySituation: [
        .nothingSent: .fail(.outcomeUnknown),
        .readOnly: .reconnect,
        .idempotent: .reconnect,
        .beforeCommit: .fail(.outcomeUnknown),
        .commitInFlight: .fail(.outcomeUnknown),
        .autocommitWrite: .fail(.outcomeUnknown),
    ])
}
