/// What to do after a failed attempt: retry (how, and after what wait) or give up (and why).
///
/// Every wait has already been checked against the operation's deadline; sleep it with the injected clock, ending
/// at once if the operation is cancelled.
public enum RetryDecision: Hashable, Sendable {
    /// Run the operation again on the same connection after the wait.
    ///
    /// For a transaction block, roll back first if the transaction is still open, then run the whole block again.
    case retrySameConnection(after: Duration)
    /// Close this connection, open a new one after the wait (zero right after a single drop), then run again.
    ///
    /// After ``ErrorClass/readOnlyHost``, the new connection must be on a read-write host.
    case reconnect(after: Duration)
    /// The server is unreachable, unavailable or out of capacity: wait, then connect and run again.
    ///
    /// A pool may let one prober connect on this schedule while other operations wait for it.
    case backOff(for: Duration)
    /// Stop and report the failure, with the reason.
    case fail(Reason)

    /// The wait before retrying, or `nil` when the decision is to fail.
    public var delay: Duration? {
        switch self {
        case .retrySameConnection(let delay), .reconnect(let delay), .backOff(let delay): delay
        case .fail: nil
        }
    }

    /// Whether the decision is to run the operation again.
    public var isRetry: Bool { delay != nil }
}
