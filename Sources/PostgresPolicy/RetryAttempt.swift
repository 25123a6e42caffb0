/// One failed attempt of an operation, as kept in its history.
///
/// The history travels with the final error, so a caller can see what was tried and how long each wait was.
public struct RetryAttempt: Hashable, Sendable {
    /// How far a request had got when it failed: the same type as `TransportError.Phase`.
    public typealias Phase = FailureFacts.Phase

    /// The attempt's number, from 1.
    public var number: Int
    /// The class of its failure.
    public var errorClass: ErrorClass
    /// The failure's SQLSTATE, if it had one.
    public var sqlState: SQLState?
    /// How far the attempt got.
    public var phase: Phase
    /// Time from the operation's start to the failure.
    public var elapsed: Duration
    /// The wait chosen before the next attempt, or `nil` when this attempt ended the operation.
    public var delay: Duration?

    /// Creates a record of one failed attempt.
    package init(
        number: Int,
        errorClass: ErrorClass,
        sqlState: SQLState?,
        phase: FailureFacts.Phase,
        elapsed: Duration,
        delay: Duration?
    ) {
        self.number = number
        self.errorClass = errorClass
        self.sqlState = sqlState
        self.phase = phase
        self.elapsed = elapsed
        self.delay = delay
    }
}
