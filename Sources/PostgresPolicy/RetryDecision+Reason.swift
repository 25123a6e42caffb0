extension RetryDecision {
    /// Why an operation stopped retrying, which tells the caller what the failure means for their data.
    public struct Reason: Hashable, Sendable, CustomStringConvertible {
        enum Value: Hashable, Sendable {
            case permanent, outcomeUnknown, budgetExhausted, attemptLimitReached, cancelled, timedOut, throttled
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
            }
        }
    }
}
