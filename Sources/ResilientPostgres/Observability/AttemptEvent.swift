public import PostgresPolicy

/// What happened to one attempt of an operation, as the client tells ``PostgresClient/Configuration/onAttempt``.
///
/// One event per attempt: the first attempt of an operation that succeeds at once gives one event with
/// ``outcome`` `.succeeded`. An operation that gives up while waiting to make its next attempt (its budget ran out
/// waiting for a session or for the database to come back, or its task was cancelled) reports that attempt as
/// `.gaveUp` too, with the class and SQLSTATE of the error it throws. Events carry classes, SQLSTATEs and hosts,
/// never statements, values or passwords.
public struct AttemptEvent: Sendable {
    /// How the attempt ended, and what the client does next.
    public enum Outcome: Sendable, Hashable {
        /// The attempt succeeded; the operation is done.
        case succeeded
        /// The attempt failed and the client tries again after `delay` (zero for at once), reconnecting first if
        /// `reconnects`.
        case willRetry(delay: Duration, reconnects: Bool)
        /// The attempt failed and the client stopped: the operation throws a ``PostgresError`` with this reason.
        case gaveUp(PostgresError.Reason)
        /// The outcome was unknown and the operation's verification (`verifyingWith:`, or the commit marker of
        /// ``OperationOptions/verifiedCommit``) found it applied: the operation is done.
        case verifiedApplied
        /// The outcome was unknown and the operation's verification found it not applied: it runs again.
        case verifiedNotApplied
    }

    /// The attempt's number within its operation, from 1.
    public var attempt: Int
    /// How the attempt ended.
    public var outcome: Outcome
    /// The class of the failure, or nil for a success.
    public var errorClass: ErrorClass?
    /// The SQLSTATE of the failure, if the server sent one.
    public var sqlState: SQLState?
    /// The host the attempt ran on or tried to reach, when known.
    public var host: String?
    /// The port the attempt ran on or tried to reach, when known.
    public var port: Int?
    /// Time since the operation started.
    public var elapsed: Duration

    /// An event; the client makes these, tests of an event handler may too.
    public init(
        attempt: Int,
        outcome: Outcome,
        errorClass: ErrorClass? = nil,
        sqlState: SQLState? = nil,
        host: String? = nil,
        port: Int? = nil,
        elapsed: Duration
    ) {
        self.attempt = attempt
        self.outcome = outcome
        self.errorClass = errorClass
        self.sqlState = sqlState
        self.host = host
        self.port = port
        self.elapsed = elapsed
    }
}
