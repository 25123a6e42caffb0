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

extension RetryDecision {
    /// Why an operation stopped retrying, which tells the caller what the failure means for their data.
    public struct Reason: Hashable, Sendable, CustomStringConvertible {
        enum Value: Hashable, Sendable {
            case permanent, outcomeUnknown, budgetExhausted, attemptLimitReached, cancelled, timedOut, throttled
            case streamInterrupted
        }

        let value: Value

        private init(_ value: Value) { self.value = value }

        /// Retrying cannot fix the failure; it is reported unchanged.
        public static let permanent = Reason(.permanent)
        /// The operation may or may not have been applied, and it is not declared idempotent.
        public static let outcomeUnknown = Reason(.outcomeUnknown)
        /// The next wait would cross the operation's deadline.
        public static let budgetExhausted = Reason(.budgetExhausted)
        /// The operation made as many attempts as allowed.
        public static let attemptLimitReached = Reason(.attemptLimitReached)
        /// The caller, or a cancel request, cancelled the operation.
        public static let cancelled = Reason(.cancelled)
        /// A statement timeout or the operation's deadline ended the attempt.
        public static let timedOut = Reason(.timedOut)
        /// Too many recent attempts across the client failed; the retry throttle holds retries back.
        public static let throttled = Reason(.throttled)
        /// A row stream or a COPY failed after rows had reached the caller or data had reached the server, when
        /// running it again would no longer be invisible: ``RetryLoop`` gives it for an attempt reported
        /// ``RetryLoop/Outcome/interrupted(_:mayHaveBeenApplied:)`` (a COPY whose answer is lost after its end gets
        /// ``outcomeUnknown`` instead), and the client for a row stream that fails once rows were handed over.
        public static let streamInterrupted = Reason(.streamInterrupted)

        /// What the reason means for the caller.
        public var description: String {
            switch value {
            case .permanent: "not retried: the failure is permanent"
            case .outcomeUnknown: "not retried: the operation may or may not have been applied"
            case .budgetExhausted: "gave up: the next retry would pass the operation's deadline"
            case .attemptLimitReached: "gave up: the attempt limit was reached"
            case .cancelled: "not retried: the operation was cancelled"
            case .timedOut: "not retried: the operation timed out"
            case .throttled: "not retried: too many recent attempts failed, so retries are throttled"
            case .streamInterrupted: "not retried: rows had been handed over, or data sent, before the failure"
            }
        }
    }
}
