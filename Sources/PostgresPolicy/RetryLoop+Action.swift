extension RetryLoop {
    /// What the driver of a ``RetryLoop`` does next, with what it reports.
    public enum Action: Hashable, Sendable {
        /// The operation is done: after a success, return its result; after a verification, that it was applied.
        case `return`
        /// Ask the operation's verification whether the attempt whose outcome is unknown was applied, and tell its
        /// answer to ``RetryLoop/verified(applied:at:)`` or ``RetryLoop/verificationFailed(at:)``.
        ///
        /// With `endLostProcessFirst`, the last attempt that failed on its session lost it: end that session's
        /// server process first, which may still be running the statement, so that the verification reads what
        /// the attempt did for good.
        case verify(endLostProcessFirst: Bool)
        /// Run the operation again at once: a verification found the attempt not applied (already reported).
        case runAgain
        /// Report the failed attempt, then run the operation again as ``Retry`` says.
        case retry(Retry)
        /// Stop: report the attempt and throw the failure ``GiveUp`` describes.
        case giveUp(GiveUp)
    }

    /// A failed attempt to run again, and how.
    public struct Retry: Hashable, Sendable {
        /// The number of the attempt that failed, from 1.
        public var attempt: Int
        /// The class of its failure.
        public var errorClass: ErrorClass
        /// The policy's decision: on the same session or a new one, and after what wait.
        public var decision: RetryDecision
        /// Whether every session of the pool must be replaced first: the attempt found a standby where the primary
        /// was, so a failover happened.
        public var retiresEpoch: Bool
        /// Whether, if the pool is in an outage, the wait is spent waiting for its prober instead of sleeping: the
        /// attempt failed to connect, and the prober paces the reconnects, resuming the operation as soon as the
        /// database is back.
        public var waitsForProber: Bool
        /// Time from the operation's start to the decision.
        public var elapsed: Duration

        /// The wait before the next attempt; zero for at once.
        public var delay: Duration { decision.delay ?? .zero }

        /// Whether the next attempt needs a new session.
        public var reconnects: Bool {
            if case .reconnect = decision { true } else { false }
        }
    }

    /// Why and how an operation stops.
    public struct GiveUp: Hashable, Sendable {
        /// The number the attempt is reported as: the one that failed, or, when the operation stopped while waiting
        /// to make its next attempt, that next one.
        public var attempt: Int
        /// The class the caller acts on: the failure's, or ``ErrorClass/outcomeUnknown`` when that is the reason.
        public var errorClass: ErrorClass
        /// Why retrying stopped.
        public var reason: RetryDecision.Reason
        /// Whether any attempt may have taken effect without a verification settling it.
        public var mayHaveBeenApplied: Bool
        /// Whether the error carries the last failure seen: not when the client shut down, which is why it stopped.
        public var reportsLastFailure: Bool
        /// Time from the operation's start to giving up.
        public var elapsed: Duration

        /// Describes a give-up; the loop makes these, tests of a loop's driver may too.
        public init(
            attempt: Int,
            errorClass: ErrorClass,
            reason: RetryDecision.Reason,
            mayHaveBeenApplied: Bool,
            reportsLastFailure: Bool,
            elapsed: Duration
        ) {
            self.attempt = attempt
            self.errorClass = errorClass
            self.reason = reason
            self.mayHaveBeenApplied = mayHaveBeenApplied
            self.reportsLastFailure = reportsLastFailure
            self.elapsed = elapsed
        }
    }
}
