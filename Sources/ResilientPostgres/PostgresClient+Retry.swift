import Logging
import PostgresPolicy
import PostgresTransport

extension PostgresClient {
    /// Runs `operation` on a pooled session until it succeeds or the policy says to stop.
    ///
    /// Every wait (pool, connects, backoff) counts against the one budget the operation started with; a backoff
    /// sleep ends at once when the task is cancelled.
    func withRetries<Result>(
        _ safety: OperationSafety,
        _ operation: (any DatabaseConnection) async throws -> Result
    ) async throws -> Result {
        let policy = configuration.retryPolicy
        var budget = policy.makeBudget(startingAt: ContinuousClock.now)
        var generator: SplitMix64?
        var lastFailure: TransportError?
        while true {
            let failure: TransportError
            var inHotStandby: Bool?
            do {
                let lease = try await pool.acquire(deadline: budget.deadline.end)
                do {
                    let result = try await operation(lease.connection)
                    await pool.release(lease, reuse: true)
                    throttle.recordSuccess()
                    return result
                } catch let error as TransportError {
                    if error.sqlState == "25006" {
                        inHotStandby = await lease.connection.reportsHotStandby()
                    }
                    await pool.release(lease, reuse: error.isConnectionUsable)
                    failure = error
                } catch {
                    // Not a failure of the database: the caller's own error, or a value that does not decode.
                    await pool.release(lease, reuse: true)
                    throw error
                }
            } catch let error as TransportError {
                failure = error
            } catch is ConnectionPool.WaitTimedOut {
                throw giveUp(.resourceLimit, .budgetExhausted, budget: budget, last: lastFailure)
            } catch is CancellationError {
                throw giveUp(.cancelled, .cancelled, budget: budget, last: lastFailure)
            } catch is ConnectionPool.ShutDown {
                throw giveUp(.permanent, .permanent, budget: budget, last: nil, message: "the client was shut down")
            }

            let facts = FailureFacts(failure, inHotStandby: inHotStandby)
            if generator == nil { generator = SplitMix64() }
            let decision = policy.decide(
                facts, for: safety, budget: &budget, now: ContinuousClock.now, throttle: throttle, using: &generator!
            )
            lastFailure = failure
            guard let delay = decision.delay else {
                guard case .fail(let reason) = decision else { preconditionFailure("a decision without delay fails") }
                // When the reason is an unknown outcome, that is what the caller must act on, whatever the fault.
                let errorClass = reason == .outcomeUnknown ? .outcomeUnknown : facts.errorClass
                throw giveUp(errorClass, reason, budget: budget, last: failure,
                             mayHaveBeenApplied: facts.mayHaveBeenApplied)
            }
            logRetry(facts.errorClass, decision: decision, failure: failure, attempt: budget.attempts.count)
            if case .reconnect = decision, facts.errorClass == .readOnlyHost {
                // The session landed on a standby (a failover happened): replace every session of the old epoch.
                await pool.retireEpoch()
            }
            if delay > .zero {
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    throw giveUp(.cancelled, .cancelled, budget: budget, last: failure)
                }
            }
        }
    }

    private func giveUp(
        _ errorClass: ErrorClass,
        _ reason: PostgresError.Reason,
        budget: RetryBudget<ContinuousClock.Instant>,
        last: TransportError?,
        mayHaveBeenApplied: Bool = false,
        message: String? = nil
    ) -> PostgresError {
        let error = PostgresError(
            errorClass: errorClass,
            reason: reason,
            history: budget.attempts,
            elapsed: budget.deadline.elapsed(at: .now),
            lastFailure: last,
            mayHaveBeenApplied: mayHaveBeenApplied
        )
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
