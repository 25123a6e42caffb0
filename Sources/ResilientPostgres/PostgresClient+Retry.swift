import Logging
import PostgresPolicy
import PostgresTransport

extension PostgresClient {
    /// How a retried operation ended.
    enum Completion<Result> {
        /// It ran to the end and returned this.
        case completed(Result)
        /// An attempt's outcome was unknown, and the operation's verification found it applied.
        case verifiedApplied
    }

    /// Runs `operation` on a pooled session until it succeeds or the policy says to stop.
    func withRetries<Result>(
        _ safety: OperationSafety,
        _ operation: (any DatabaseConnection) async throws -> Result
    ) async throws -> Result {
        switch try await retrying(safety, verify: nil, lendsSession: false, { connection, _ in
            try await operation(connection)
        }) {
        case .completed(let result): return result
        case .verifiedApplied: preconditionFailure("an operation without verification cannot be verified applied")
        }
    }

    /// Lends a pooled session to app code (`operation`) until it succeeds or the policy says to stop.
    ///
    /// What the app does with the session is tracked in a ``SessionUse``: once something it sent may have taken
    /// effect, a later failure leaves the operation's outcome unknown; and the session is reset before it goes back
    /// to the pool.
    func withLentSession<Result>(
        _ safety: OperationSafety,
        _ operation: (any DatabaseConnection, SessionUse) async throws -> Result
    ) async throws -> Result {
        switch try await retrying(safety, verify: nil, lendsSession: true, { connection, use in
            // A lent session always comes with its use.
            try await operation(connection, use!)
        }) {
        case .completed(let result): return result
        case .verifiedApplied: preconditionFailure("an operation without verification cannot be verified applied")
        }
    }

    /// Runs `operation` on a pooled session until it succeeds or the policy says to stop.
    ///
    /// Every wait (pool, connects, backoff, verification) counts against the one budget the operation started
    /// with, and that budget ends no later than the operation this one runs inside, if any (a verification's
    /// query, or a call made from another operation's closure). A backoff sleep ends at once when the task is
    /// cancelled. While the pool is in an outage, the operation waits for the pool's prober instead of sleeping its
    /// own backoff, so it resumes as soon as the database is back. When the policy stops because the outcome is
    /// unknown and `verify` is given, `verify` decides: applied ends the operation, not applied runs it again within
    /// the same budget.
    ///
    /// With `lendsSession`, each attempt's `operation` gets a fresh ``SessionUse`` to record what it does.
    func retrying<Result>(
        _ safety: OperationSafety,
        verify: (() async throws -> Bool)?,
        lendsSession: Bool = false,
        _ operation: (any DatabaseConnection, SessionUse?) async throws -> Result
    ) async throws -> Completion<Result> {
        let policy = configuration.retryPolicy
        var budget = makeBudget(policy)
        var generator: SplitMix64?
        var lastFailure: TransportError?
        // Whether an earlier attempt may have taken effect: a later failure that did not cannot undo it.
        var mayHaveBeenApplied = false
        // The server process of the last attempt whose connection was lost: it may still be running the statement.
        var lostProcess: ServerProcess?
        while true {
            metrics.attempts.increment()
            var failure: TransportError
            var inHotStandby: Bool?
            var use: SessionUse?
            do {
                let waitStart = clock.now
                let lease = try await pool.acquire(deadline: budget.deadline.end)
                metrics.recordAcquire(waitStart.duration(to: clock.now))
                use = lendsSession ? SessionUse(inTransactionBlock: safety.isTransactionBlock) : nil
                do {
                    // Every statement of the attempt is cancelled if it runs past the operation's deadline.
                    let result = try await OperationDeadline.$current.withValue(budget.deadline.end) {
                        try await operation(lease.connection, use)
                    }
                    await pool.release(lease, reuse: true, reset: use.flatMap(SessionReset.init),
                                       deadline: budget.deadline.end)
                    throttle?.recordSuccess()
                    report(AttemptEvent(
                        attempt: budget.attempts.count + 1, outcome: .succeeded, host: lease.connection.host,
                        port: lease.connection.port, elapsed: budget.deadline.elapsed(at: clock.now)
                    ))
                    return .completed(result)
                } catch let error as TransportError {
                    if error.sqlState == "25006" {
                        inHotStandby = await lease.connection.reportsHotStandby()
                    }
                    // A session on a hot standby is no use to anyone once the primary moved.
                    let reuse = error.isConnectionUsable && inHotStandby != true
                    lostProcess = error.isConnectionUsable ? nil : lease.connection.serverProcess
                    await pool.release(lease, reuse: reuse, reset: use.flatMap(SessionReset.init),
                                       deadline: budget.deadline.end)
                    failure = error
                } catch {
                    // Not a failure of the database: the caller's own error, or a value that does not decode.
                    await pool.release(lease, reuse: true, reset: use.flatMap(SessionReset.init),
                                       deadline: budget.deadline.end)
                    throw error
                }
            } catch let error as TransportError {
                failure = error
            } catch let timedOut as ConnectionPool.WaitTimedOut {
                // Waiting for the database to come back, or for a session of a full pool, used up the budget.
                let last = timedOut.lastConnectFailure ?? lastFailure
                let errorClass = timedOut.lastConnectFailure.map { FailureFacts($0, inHotStandby: nil).errorClass }
                    ?? .resourceLimit
                throw reportedWhileWaiting(
                    giveUp(errorClass, .budgetExhausted, budget: budget, last: last,
                           mayHaveBeenApplied: mayHaveBeenApplied),
                    budget
                )
            } catch is CancellationError {
                throw reportedWhileWaiting(
                    giveUp(.cancelled, .cancelled, budget: budget, last: lastFailure,
                           mayHaveBeenApplied: mayHaveBeenApplied),
                    budget
                )
            } catch is ConnectionPool.ShutDown {
                throw reportedWhileWaiting(
                    giveUp(.permanent, .permanent, budget: budget, last: nil, mayHaveBeenApplied: mayHaveBeenApplied),
                    budget
                )
            }

            var facts = FailureFacts(failure, inHotStandby: inHotStandby)
            if use?.mayHaveTakenEffect == true {
                facts.earlierWorkMayHaveTakenEffect = true
            }
            if facts.leavesOutcomeUnknown(for: safety) { mayHaveBeenApplied = true }
            if generator == nil { generator = makeGenerator() }
            let decision = policy.decide(
                facts, for: safety, budget: &budget, now: clock.now, throttle: throttle, using: &generator!
            )
            lastFailure = failure
            guard let delay = decision.delay else {
                guard case .fail(let reason) = decision else { preconditionFailure("a decision without delay fails") }
                // A verification asks whether the operation was applied; after part of it committed (a statement
                // of a block that sent its own COMMIT), neither answer would be true, so the outcome stays unknown.
                if reason == .outcomeUnknown, let verify, !facts.earlierWorkMayHaveTakenEffect {
                    if try await verifyOutcome(verify, budget: budget, failure: failure, lostProcess: lostProcess) {
                        return .verifiedApplied
                    }
                    // Not applied: it runs again, within the same attempt limit and budget. What this attempt did
                    // is settled; earlier attempts were each settled the same way before this one ran.
                    mayHaveBeenApplied = false
                    if let spent = exhaustion(of: budget) {
                        report(event(
                            for: failure, errorClass: facts.errorClass, outcome: .gaveUp(spent), budget: budget
                        ))
                        throw giveUp(facts.errorClass, spent, budget: budget, last: failure)
                    }
                    continue
                }
                // When the reason is an unknown outcome, that is what the caller must act on, whatever the fault.
                let errorClass = reason == .outcomeUnknown ? .outcomeUnknown : facts.errorClass
                report(event(for: failure, errorClass: errorClass, outcome: .gaveUp(reason), budget: budget))
                throw giveUp(errorClass, reason, budget: budget, last: failure,
                             mayHaveBeenApplied: mayHaveBeenApplied)
            }
            let reconnects: Bool = if case .reconnect = decision { true } else { false }
            metrics.recordRetry(facts.errorClass)
            report(event(for: failure, errorClass: facts.errorClass,
                         outcome: .willRetry(delay: delay, reconnects: reconnects), budget: budget))
            logRetry(facts.errorClass, decision: decision, failure: failure, attempt: budget.attempts.count)
            if reconnects, facts.errorClass == .readOnlyHost {
                // The session landed on a standby (a failover happened): replace every session of the old epoch.
                await pool.retireEpoch()
            }
            if delay > .zero {
                // In an outage the pool's prober paces the reconnects; waiting for it replaces this backoff.
                if failure.phase == .connecting, pool.isInOutage { continue }
                do {
                    try await clock.sleep(for: delay)
                } catch {
                    throw reportedWhileWaiting(
                        giveUp(.cancelled, .cancelled, budget: budget, last: failure,
                               mayHaveBeenApplied: mayHaveBeenApplied),
                        budget
                    )
                }
            }
        }
    }

    /// A new operation's budget, ending no later than the operation it runs inside, if any.
    private func makeBudget(_ policy: RetryPolicy) -> RetryBudget<ContinuousClock.Instant> {
        let now = clock.now
        guard let enclosing = OperationDeadline.current, enclosing < now.advanced(by: policy.budget) else {
            return policy.makeBudget(startingAt: now)
        }
        return RetryBudget(start: now, budget: now.duration(to: enclosing), maxAttempts: policy.maxAttempts)
    }

    /// Why the operation may not make another attempt, if it may not: its deadline has passed, or it made every
    /// attempt its policy allows.
    private func exhaustion(of budget: RetryBudget<ContinuousClock.Instant>) -> PostgresError.Reason? {
        if budget.deadline.hasPassed(at: clock.now) { return .budgetExhausted }
        if let maxAttempts = budget.maxAttempts, budget.attempts.count >= maxAttempts { return .attemptLimitReached }
        return nil
    }

    /// Asks the operation's verification whether an attempt whose outcome is unknown was applied, once the server
    /// process that ran the attempt, if its connection was lost, is gone.
    ///
    /// - Throws: the operation's outcome-unknown ``PostgresError`` when the verification itself fails: nothing
    ///   was learned, so the caller must still treat the write as in doubt.
    private func verifyOutcome(
        _ verify: () async throws -> Bool,
        budget: RetryBudget<ContinuousClock.Instant>,
        failure: TransportError,
        lostProcess: ServerProcess?
    ) async throws -> Bool {
        let applied: Bool
        do {
            if let lostProcess {
                // The lost attempt's statement may still be running on its server: end it before reading its fate.
                try await endLostProcess(lostProcess, deadline: budget.deadline.end)
            }
            // The verification's own queries spend the operation's budget, not a new one.
            applied = try await OperationDeadline.$current.withValue(budget.deadline.end) {
                try await verify()
            }
        } catch {
            logger.warning("verification of an unknown outcome failed", metadata: [
                "postgres.attempts": "\(budget.attempts.count)",
                "postgres.verification_error": "\(type(of: error))",
            ])
            report(event(for: failure, errorClass: .outcomeUnknown, outcome: .gaveUp(.outcomeUnknown), budget: budget))
            throw giveUp(.outcomeUnknown, .outcomeUnknown, budget: budget, last: failure, mayHaveBeenApplied: true)
        }
        report(event(for: failure, errorClass: .outcomeUnknown,
                     outcome: applied ? .verifiedApplied : .verifiedNotApplied, budget: budget))
        logger.info("verified an unknown outcome", metadata: [
            "postgres.applied": "\(applied)",
            "postgres.attempt": "\(budget.attempts.count)",
            "postgres.host": "\(failure.host ?? "unknown")",
        ])
        return applied
    }

    private func event(
        for failure: TransportError,
        errorClass: ErrorClass,
        outcome: AttemptEvent.Outcome,
        budget: RetryBudget<ContinuousClock.Instant>
    ) -> AttemptEvent {
        AttemptEvent(
            attempt: budget.attempts.count,
            outcome: outcome,
            errorClass: errorClass,
            sqlState: failure.sqlState,
            host: failure.host,
            port: failure.port,
            elapsed: budget.deadline.elapsed(at: clock.now)
        )
    }

    /// Reports an operation that gave up while waiting to make its next attempt (for a session, for the database
    /// to come back, or through a backoff), as that attempt's event; returns the error to throw.
    private func reportedWhileWaiting(
        _ error: PostgresError,
        _ budget: RetryBudget<ContinuousClock.Instant>
    ) -> PostgresError {
        report(AttemptEvent(
            attempt: budget.attempts.count + 1,
            outcome: .gaveUp(error.reason),
            errorClass: error.errorClass,
            sqlState: error.sqlState,
            host: error.lastFailure?.host,
            port: error.lastFailure?.port,
            elapsed: error.elapsed
        ))
        return error
    }

    private func report(_ event: @autoclosure () -> AttemptEvent) {
        configuration.onAttempt?(event())
    }

    private func giveUp(
        _ errorClass: ErrorClass,
        _ reason: PostgresError.Reason,
        budget: RetryBudget<ContinuousClock.Instant>,
        last: TransportError?,
        mayHaveBeenApplied: Bool = false
    ) -> PostgresError {
        let error = PostgresError(
            errorClass: errorClass,
            reason: reason,
            history: budget.attempts,
            elapsed: budget.deadline.elapsed(at: clock.now),
            lastFailure: last,
            mayHaveBeenApplied: mayHaveBeenApplied
        )
        metrics.recordGiveUp(errorClass, reason: reason)
        let level: Logger.Level = errorClass == .permanent ? .debug : .warning
        logger.log(level: level, "operation failed", metadata: [
            "postgres.class": "\(errorClass.name)",
            "postgres.reason": "\(reason)",
            "postgres.attempts": "\(error.attempts)",
            "postgres.sqlstate": "\(last?.sqlState ?? "none")",
            "postgres.host": "\(last?.host ?? "unknown")",
        ])
        return error
    }

    private func logRetry(_ errorClass: ErrorClass, decision: RetryDecision, failure: TransportError, attempt: Int) {
        let action: String =
            switch decision {
            case .retrySameConnection: "retry"
            case .reconnect: "reconnect"
            case .backOff: "back off"
            case .fail: "fail"
            }
        logger.info("retrying", metadata: [
            "postgres.class": "\(errorClass.name)",
            "postgres.action": "\(action)",
            "postgres.attempt": "\(attempt)",
            "postgres.delay_ms": "\((decision.delay ?? .zero) / .milliseconds(1))",
            "postgres.sqlstate": "\(failure.sqlState ?? "none")",
            "postgres.host": "\(failure.host ?? "unknown")",
        ])
    }
}
