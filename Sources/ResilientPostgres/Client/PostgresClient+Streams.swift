import PostgresPolicy
import PostgresTransport

extension PostgresClient {
    /// Opens a stream on a pooled session: runs `open` under the retry loop until it succeeds or the policy says to
    /// stop, and keeps the session of the attempt that succeeded for the stream that goes on reading from it, with
    /// the attempts that failed before (which the stream's own error then lists first).
    ///
    /// `open` sends the statement and reads its first rows or data, before anything reaches the caller: until
    /// then, a failure is retried as for any operation.
    func openStream<First: Sendable>(
        _ options: OperationOptions,
        _ open: @escaping (any DatabaseConnection, ContinuousClock.Instant) async throws -> First
    ) async throws -> (session: StreamSession, first: First) {
        let start = clock.offsetNow
        var held: (lease: ConnectionPool.Lease, earlierAttempts: [RetryAttempt])?
        let completion = try await retrying(
            options.safety(isTransactionBlock: false), isolation: nil, verify: nil,
            keepingLease: { held = ($0, $1) }
        ) { connection, _, deadline in
            try await open(connection, ContinuousClock.Instant(deadline))
        }
        guard case .completed(let first) = completion, let held else {
            preconditionFailure("an operation without verification cannot be verified applied")
        }
        let session = StreamSession(
            lease: held.lease, pool: pool, cleanups: streamCleanups, startedAt: start,
            earlierAttempts: held.earlierAttempts
        )
        return (session, first)
    }

    /// The error a stream ends with when `failure` came after rows reached the caller: not retried, since a retry
    /// would no longer be invisible. Reported, logged and counted as any operation's give-up.
    ///
    /// Its reason says what the app can do next: ``RetryDecision/Reason/cancelled`` when the app's own task was
    /// cancelled; ``RetryDecision/Reason/permanent`` for a failure that a new run would meet again;
    /// ``RetryDecision/Reason/outcomeUnknown`` (with that class) when the statement may have been applied; otherwise
    /// ``RetryDecision/Reason/streamInterrupted``, the one to resume after, also for a cancellation or timeout the
    /// server made on its own (`statement_timeout`, `pg_cancel_backend`), whose class and SQLSTATE stay in the error.
    ///
    /// - Parameters:
    ///   - delivered: the rows handed to the caller before the failure.
    ///   - mayHaveBeenApplied: whether the statement may have taken effect all the same.
    ///   - start: when the operation started.
    ///   - earlierAttempts: the attempts that failed before the one that failed here, which the history lists first.
    func interruptedStream(
        by failure: TransportError,
        delivered: Int?,
        mayHaveBeenApplied: Bool,
        startedAt start: OffsetInstant,
        earlierAttempts: [RetryAttempt] = []
    ) -> PostgresError {
        let facts = FailureFacts(failure, inHotStandby: nil)
        let elapsed = start.duration(to: clock.offsetNow)
        let reason: RetryDecision.Reason =
            if Task.isCancelled { .cancelled }
            else if facts.errorClass == .permanent || facts.errorClass == .hostNotFound { .permanent }
            else if mayHaveBeenApplied { .outcomeUnknown }
            else { .streamInterrupted }
        let errorClass = reason == .outcomeUnknown ? .outcomeUnknown : facts.errorClass
        let attempt = earlierAttempts.count + 1
        let history = earlierAttempts + [RetryAttempt(
            number: attempt, errorClass: facts.errorClass, sqlState: failure.sqlState, phase: facts.phase,
            elapsed: elapsed, delay: nil
        )]
        let giveUp = RetryLoop.GiveUp(
            attempt: attempt, errorClass: errorClass, reason: reason, mayHaveBeenApplied: mayHaveBeenApplied,
            reportsLastFailure: true, elapsed: elapsed
        )
        // The client's own work never streams, so a stream's end is always the app's to hear of.
        var error = error(givingUp: giveUp, history: history, last: failure, isInternal: false)
        error.rowsDelivered = delivered
        return error
    }
}
