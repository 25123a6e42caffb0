extension RetryPolicy {
    /// Decides what to do after a failed attempt, and records the attempt in `budget`.
    ///
    /// In order: permanent failures, timeouts and cancellations fail at once; a failure that may have been applied
    /// fails as ``RetryDecision/Reason/outcomeUnknown`` unless the operation may be repeated (a transaction block
    /// that lost its connection before `COMMIT` was sent had nothing committed, so it is re-run); the attempt limit
    /// and the throttle are checked; then the wait is chosen, and if it would cross the deadline the operation fails
    /// now as ``RetryDecision/Reason/budgetExhausted``.
    ///
    /// - Parameters:
    ///   - failure: the facts of the attempt that failed.
    ///   - safety: what the operation allows to be repeated.
    ///   - budget: the operation's budget; the attempt is appended to its history.
    ///   - now: the injected clock's current instant.
    ///   - throttle: the client's shared throttle, or `nil` for none. A failure of a class that
    ///     ``ErrorClass/spendsRetryToken`` is recorded in it, whatever the decision.
    ///   - generator: the source of jitter.
    package func decide<Instant: InstantProtocol>(
        _ failure: FailureFacts,
        for safety: OperationSafety,
        budget: inout RetryBudget<Instant>,
        now: Instant,
        throttle: RetryThrottle? = nil,
        using generator: inout some RandomNumberGenerator
    ) -> RetryDecision where Instant.Duration == Duration {
        let errorClass = failure.errorClass
        let throttlePermits = errorClass.spendsRetryToken ? (throttle?.recordFailure() ?? true) : true
        let isFirstFailure = budget.attempts.isEmpty

        func fail(_ reason: RetryDecision.Reason) -> RetryDecision {
            budget.record(failure, as: errorClass, at: now, delay: nil)
            return .fail(reason)
        }

        switch errorClass.value {
        case .permanent, .hostNotFound: return fail(.permanent)
        case .cancelled: return fail(.cancelled)
        case .deadline: return fail(.timedOut)
        case .unreachable, .serverWentAway, .serverUnavailable, .resourceLimit, .readOnlyHost, .credentialUnavailable,
            .transactionConflict, .staleStatement, .outcomeUnknown:
            break
        }
        if failure.leavesOutcomeUnknown(for: safety) && !safety.mayRepeat {
            return fail(.outcomeUnknown)
        }
        if budget.maxAttempts.map({ budget.attempts.count + 1 >= $0 }) ?? false {
            return fail(.attemptLimitReached)
        }
        if !throttlePermits {
            return fail(.throttled)
        }

        func backoffDelay(_ backoff: Backoff) -> Duration {
            let delay = backoff.delay(
                forRetry: budget.backoffRetries + 1,
                previous: budget.previousDelay,
                using: &generator
            )
            budget.recordBackoff(delay)
            return delay
        }

        let decision: RetryDecision
        switch errorClass.value {
        case .unreachable, .serverUnavailable, .credentialUnavailable:
            decision = .backOff(for: backoffDelay(backoff))
        case .resourceLimit:
            decision = .backOff(for: backoffDelay(resourceLimitBackoff))
        case .serverWentAway, .readOnlyHost:
            let atOnce = isFirstFailure && reconnectsAtOnceAfterFirstDrop
            decision = .reconnect(after: atOnce ? .zero : backoffDelay(backoff))
        case .transactionConflict, .outcomeUnknown:
            let delay = backoffDelay(backoff)
            decision = failure.isConnectionUsable ? .retrySameConnection(after: delay) : .reconnect(after: delay)
        case .staleStatement:
            decision = failure.isConnectionUsable ? .retrySameConnection(after: .zero) : .reconnect(after: .zero)
        case .permanent, .hostNotFound, .cancelled, .deadline:
            preconditionFailure("\(errorClass) is never retried")
        }

        let delay = decision.delay ?? .zero
        guard budget.deadline.admits(delay, at: now) else {
            return fail(.budgetExhausted)
        }
        budget.record(failure, as: errorClass, at: now, delay: delay)
        return decision
    }
}

extension FailureFacts {
    /// Whether the operation this failure ended may have taken effect on the server, given what it is.
    ///
    /// True when the failure itself may have been applied (``mayHaveBeenApplied``), except for a statement of a
    /// transaction block lost before its `COMMIT` was sent (the server rolled the block back), and whenever
    /// something the operation sent earlier may have taken effect (``earlierWorkMayHaveTakenEffect``). This is what
    /// the policy refuses to repeat for a write, and what an operation reports as
    /// "may have been applied" when it gives up, combined over all its attempts.
    public func leavesOutcomeUnknown(for safety: OperationSafety) -> Bool {
        if earlierWorkMayHaveTakenEffect || errorClass == .outcomeUnknown { return true }
        guard mayHaveBeenApplied else { return false }
        // Inside a transaction block, nothing is durable until COMMIT: a statement lost before it rolled back.
        return !(safety.isTransactionBlock && phase == .sent)
    }
}
