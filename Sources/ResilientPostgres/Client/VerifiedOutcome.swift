/// How a write with an outcome check ended: it ran, or an attempt whose answer was lost turned out applied.
///
/// Returned by the `verifyingWith:` variants of ``PostgresClient/execute(_:options:isolation:verifyingWith:)`` and
/// ``PostgresClient/transaction(options:isolation:verifyingWith:_:)``.
public enum VerifiedOutcome<Value> {
    /// The write ran and returned `value`, perhaps after retries, or after the check found that an attempt whose
    /// answer was lost had not been applied.
    case completed(Value)
    /// An attempt's answer was lost, and the check found it applied: its effect is in the database, but the value
    /// it would have returned is not known.
    case appliedEarlier

    /// The value, if the write ran to the end in this call.
    public var value: Value? {
        if case .completed(let value) = self { value } else { nil }
    }
}

extension VerifiedOutcome: Sendable where Value: Sendable {}
extension VerifiedOutcome: Equatable where Value: Equatable {}
