/// One operation's retries as a state machine: told what each attempt did, it says what to do next.
///
/// It holds what an operation carries from one attempt to the next: its budget and history, its jitter, whether an
/// attempt may have taken effect unverified, and whether the last session was lost. A thin async loop acquires a
/// session, runs the attempt, tells the outcome to ``next(after:at:jitter:)`` and carries out the ``Action``;
/// every rule is here, so it is tested without a server or a clock. It never sleeps and never reads a clock: `now`
/// comes from the clock the caller injects, as an ``OffsetInstant``, and is read only when a decision needs it.
///
/// The rules, after a failure: `RetryPolicy.decide(_:for:budget:now:throttle:using:)` decides; when it stops
/// because the outcome is unknown, an operation with a verification asks it instead of giving up, unless something
/// sent earlier on the session may have taken effect (then neither answer would be true). Not applied runs the
/// operation again at once, within the same budget and attempt limit; applied ends it. A retry after a session that
/// turned out to be on a standby replaces every session of the pool first; a retry after a failure to connect waits
/// for the pool's prober instead of its backoff while the pool is in an outage.
public struct RetryLoop: Sendable {
    /// What an attempt did, or what ended the wait for it.
    public enum Outcome: Hashable, Sendable {
        /// The attempt ran to the end.
        case succeeded
        /// The attempt failed on its session.
        case failed(FailureFacts)
        /// Opening a session for the attempt failed.
        case connectFailed(FailureFacts)
        /// Waiting for a session, or for the database to come back, used up the budget; with the pool's last failure
        /// to open a session when the wait was for the database.
        case poolTimedOut(lastConnectFailure: FailureFacts?)
        /// The operation's task was cancelled: while it waited for a session, during an attempt, or in a backoff.
        case cancelled
        /// The client was shut down while the operation waited for a session.
        case shutDown
        /// The attempt failed past the point where running it again would be invisible: data that cannot be read
        /// again had reached the server (a COPY FROM STDIN). Never retried; `mayHaveBeenApplied` when the end of
        /// the data was sent and the answer lost.
        case interrupted(FailureFacts, mayHaveBeenApplied: Bool)
    }

    /// The rules the loop decides by.
    public let policy: RetryPolicy
    /// What the operation allows to be repeated.
    public let safety: OperationSafety
    /// Whether an attempt may have taken effect and no verification has since settled it.
    public private(set) var mayHaveBeenApplied = false
    /// The operation's deadline, attempt limit and history of failed attempts.
    @usableFromInline private(set) var budget: RetryBudget<OffsetInstant>
    /// The client's shared throttle, told of every success and of failures that spend a token.
    @usableFromInline let throttle: RetryThrottle?
    /// Whether the operation can be asked whether an attempt whose outcome is unknown was applied.
    @usableFromInline let canVerify: Bool
    /// The jitter of the operation's waits, made at its first failure so that a success costs none.
    private var jitter: SplitMix64?
    /// Whether the last attempt that failed on its session lost it: its server process may still be running.
    private var lastSessionWasLost = false
    /// The class of the failure a verification is settling, while its answer is due.
    @usableFromInline private(set) var verifying: ErrorClass?

    /// Starts an operation at `now`, with the policy's budget, ending no later than `enclosingDeadline` (the
    /// deadline of an operation this one runs inside: a verification's query, a call from a lent session's closure).
    ///
    /// - Parameters:
    ///   - throttle: the client's shared throttle, or `nil` for none.
    ///   - canVerify: whether the operation has a verification to ask when an attempt's outcome is unknown.
    ///   - policy: the client's retry policy.
    ///   - safety: what the operation is, which says what may be retried.
    ///   - now: the injected clock's instant at the operation's start.
    ///   - enclosingDeadline: the deadline of the operation this one runs inside, if any.
    @inlinable
    public init(
        policy: RetryPolicy,
        safety: OperationSafety,
        startingAt now: OffsetInstant,
        enclosingDeadline: OffsetInstant? = nil,
        throttle: RetryThrottle? = nil,
        canVerify: Bool = false
    ) {
        self.policy = policy
        self.safety = safety
        self.throttle = throttle
        self.canVerify = canVerify
        if let enclosingDeadline, enclosingDeadline < now.advanced(by: policy.budget) {
            let time = now.duration(to: enclosingDeadline)
            budget = RetryBudget(start: now, budget: time, maxAttempts: policy.maxAttempts)
        } else {
            budget = policy.makeBudget(startingAt: now)
        }
    }

    /// The operation's deadline.
    @inlinable
    public var deadline: Deadline<OffsetInstant> { budget.deadline }

    /// Every failed attempt so far, oldest first.
    public var history: [RetryAttempt] { budget.attempts }

    /// The number of the attempt being made, or to be made next, from 1.
    @inlinable
    public var attempt: Int { budget.attempts.count + 1 }

    /// Takes in what the last attempt did, or what ended the wait for it, and says what to do next.
    ///
    /// - Parameters:
    ///   - outcome: what happened.
    ///   - now: the injected clock's current instant; not read after a success.
    ///   - makeJitter: a fresh random source for the operation's waits; read at most once, at its first failure.
    /// - Returns: ``Action/return`` after a success; after a failure, ``Action/retry(_:)``,
    ///   ``Action/verify(endLostProcessFirst:)`` or ``Action/giveUp(_:)``.
    @inlinable
    public mutating func next(
        after outcome: Outcome,
        at now: @autoclosure () -> OffsetInstant,
        jitter makeJitter: @autoclosure () -> SplitMix64
    ) -> Action {
        precondition(verifying == nil, "a verification's answer is due")
        // A success is the common case: it stays in the caller's own code, with nothing to decide.
        guard case .succeeded = outcome else {
            return next(afterFailing: outcome, at: now(), jitter: makeJitter)
        }
        throttle?.recordSuccess()
        return .return
    }

    /// Every outcome but a success, out of line: only the success path is inlined into the caller.
    @usableFromInline
    mutating func next(
        afterFailing outcome: Outcome,
        at now: OffsetInstant,
        jitter makeJitter: () -> SplitMix64
    ) -> Action {
        switch outcome {
        case .succeeded:
            preconditionFailure("a success is not a failure")
        case .failed(let facts):
            lastSessionWasLost = !facts.isConnectionUsable
            return decide(after: facts, at: now, makeJitter: makeJitter)
        case .connectFailed(let facts):
            return decide(after: facts, at: now, makeJitter: makeJitter)
        case .poolTimedOut(let lastConnectFailure):
            // Waiting for the database to come back, or for a session of a full pool, used up the budget.
            return giveUpWaiting(lastConnectFailure?.errorClass ?? .resourceLimit, .budgetExhausted, at: now)
        case .cancelled:
            return giveUpWaiting(.cancelled, .cancelled, at: now)
        case .shutDown:
            return giveUpWaiting(.permanent, .permanent, at: now, reportsLastFailure: false)
        case .interrupted(let facts, let applied):
            lastSessionWasLost = !facts.isConnectionUsable
            return giveUp(interrupted: facts, mayHaveBeenApplied: applied, at: now)
        }
    }

    /// Why an operation interrupted past the point of a silent retry stops, by the class of its failure and
    /// whether it may have been applied: a cancellation, a deadline and a permanent failure say so; otherwise an
    /// operation that may have been applied is ``RetryDecision/Reason/outcomeUnknown``, and one that was not is
    /// ``RetryDecision/Reason/streamInterrupted``.
    package static func reason(interruptedBy errorClass: ErrorClass, mayHaveBeenApplied: Bool) -> RetryDecision.Reason {
        switch errorClass.value {
        case .cancelled: .cancelled
        case .deadline: .timedOut
        case .permanent, .hostNotFound: .permanent
        default: mayHaveBeenApplied ? .outcomeUnknown : .streamInterrupted
        }
    }

    /// Records an interrupted attempt and gives up after it; the throttle is told of the failure as for any.
    private mutating func giveUp(
        interrupted failure: FailureFacts,
        mayHaveBeenApplied applied: Bool,
        at now: OffsetInstant
    ) -> Action {
        let errorClass = failure.errorClass
        if errorClass.spendsRetryToken { _ = throttle?.recordFailure() }
        if applied { mayHaveBeenApplied = true }
        budget.record(failure, as: errorClass, at: now, delay: nil)
        let reason = Self.reason(interruptedBy: errorClass, mayHaveBeenApplied: applied)
        return giveUp(reason == .outcomeUnknown ? .outcomeUnknown : errorClass, reason, at: now)
    }

    /// Takes in the answer of the verification that ``Action/verify(endLostProcessFirst:)`` asked for.
    ///
    /// - Returns: ``Action/return`` when the attempt was applied; when it was not, ``Action/runAgain``, or
    ///   ``Action/giveUp(_:)`` once the deadline has passed or every attempt allowed was made.
    public mutating func verified(applied: Bool, at now: OffsetInstant) -> Action {
        guard let errorClass = verifying else { preconditionFailure("no verification was asked for") }
        verifying = nil
        if applied { return .return }
        // What this attempt did is settled; earlier attempts were each settled the same way before this one ran.
        mayHaveBeenApplied = false
        if budget.deadline.hasPassed(at: now) { return giveUp(errorClass, .budgetExhausted, at: now) }
        if budget.attemptsExhausted { return giveUp(errorClass, .attemptLimitReached, at: now) }
        return .runAgain
    }

    /// Takes in a verification that failed: nothing was learned, so the outcome stays unknown.
    ///
    /// - Returns: ``Action/giveUp(_:)`` as ``ErrorClass/outcomeUnknown``.
    public mutating func verificationFailed(at now: OffsetInstant) -> Action {
        guard verifying != nil else { preconditionFailure("no verification was asked for") }
        verifying = nil
        return giveUp(.outcomeUnknown, .outcomeUnknown, at: now)
    }

    private mutating func decide(
        after failure: FailureFacts,
        at now: OffsetInstant,
        makeJitter: () -> SplitMix64
    ) -> Action {
        if failure.leavesOutcomeUnknown(for: safety) { mayHaveBeenApplied = true }
        if jitter == nil { jitter = makeJitter() }
        let decision = policy.decide(
            failure, for: safety, budget: &budget, now: now, throttle: throttle, using: &jitter!
        )
        let errorClass = failure.errorClass
        switch decision {
        case .fail(let reason):
            // A verification asks whether the operation was applied; after part of it committed (a statement of a
            // block that sent its own COMMIT), neither answer would be true, so the outcome stays unknown.
            if reason == .outcomeUnknown, canVerify, !failure.earlierWorkMayHaveTakenEffect {
                verifying = errorClass
                return .verify(endLostProcessFirst: lastSessionWasLost)
            }
            // When the reason is an unknown outcome, that is what the caller must act on, whatever the fault.
            return giveUp(reason == .outcomeUnknown ? .outcomeUnknown : errorClass, reason, at: now)
        case .retrySameConnection(let delay), .reconnect(let delay), .backOff(let delay):
            let reconnects = if case .reconnect = decision { true } else { false }
            return .retry(Retry(
                attempt: budget.attempts.count,
                errorClass: errorClass,
                decision: decision,
                retiresEpoch: reconnects && errorClass == .readOnlyHost,
                waitsForProber: delay > .zero && failure.phase == .connecting,
                elapsed: budget.deadline.elapsed(at: now)
            ))
        }
    }

    /// Gives up after the attempt just recorded.
    private func giveUp(_ errorClass: ErrorClass, _ reason: RetryDecision.Reason, at now: OffsetInstant) -> Action {
        .giveUp(GiveUp(
            attempt: budget.attempts.count, errorClass: errorClass, reason: reason,
            mayHaveBeenApplied: mayHaveBeenApplied, reportsLastFailure: true, elapsed: budget.deadline.elapsed(at: now)
        ))
    }

    /// Gives up while waiting to make the next attempt, which is reported as that attempt.
    private func giveUpWaiting(
        _ errorClass: ErrorClass,
        _ reason: RetryDecision.Reason,
        at now: OffsetInstant,
        reportsLastFailure: Bool = true
    ) -> Action {
        .giveUp(GiveUp(
            attempt: attempt, errorClass: errorClass, reason: reason, mayHaveBeenApplied: mayHaveBeenApplied,
            reportsLastFailure: reportsLastFailure, elapsed: budget.deadline.elapsed(at: now)
        ))
    }
}

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
