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
    ///
    /// `operation` gets the operation's deadline, past which every statement it sends is cancelled. It is the
    /// client's own code, not the app's: the loop runs in no actor's isolation.
    ///
    /// Always inlined, with the loop itself (`retryingInCaller`): each layer of async calls costs every operation
    /// (`query`, `execute`, `batch`) a frame and switches of executors, and the closure the caller passes is then
    /// called directly, inlined too. It runs on the caller's executor (`nonisolated(nonsending)`), which spares it
    /// the switch of executors a nonisolated async function makes on entry: the client's own code, which never
    /// blocks. `operation` stays an ordinary nonisolated closure, as `retrying` takes it: there an attempt of an
    /// app's actor runs it off that actor, beside its session.
    ///
    /// `operation` takes the ``SessionUse`` that `retrying` passes, always nil here, so that it is handed to the loop
    /// as it is rather than wrapped in one more closure, which would be one more async layer.
    @inline(__always)
    nonisolated(nonsending) func withRetries<Result: Sendable>(
        _ safety: OperationSafety,
        _ operation: (any DatabaseConnection, SessionUse?, OffsetInstant) async throws -> sending Result
    ) async throws -> Result {
        switch try await retryingInCaller(
            safety, isolation: nil, verify: nil, lendsSession: false, prefersSessionThread: false, keepingLease: nil,
            operation
        ) {
        case .completed(let result): return result
        case .verifiedApplied: preconditionFailure("an operation without verification cannot be verified applied")
        }
    }

    /// Lends a pooled session to app code (`operation`) until it succeeds or the policy says to stop.
    ///
    /// What the app does with the session is tracked in a ``SessionUse``: once something it sent may have taken
    /// effect, a later failure leaves the operation's outcome unknown; and the session is reset before it goes back
    /// to the pool. The operation's deadline is ``OperationDeadline/current`` while `operation` runs, for the
    /// statements app code sends and the client calls it makes. `operation` runs in the caller's `isolation`.
    func withLentSession<Result>(
        _ safety: OperationSafety,
        isolation: isolated (any Actor)?,
        _ operation: (any DatabaseConnection, SessionUse) async throws -> sending Result
    ) async throws -> sending Result {
        let completion = try await retrying(safety, isolation: isolation, verify: nil, lendsSession: true) {
            connection, use, deadline in
            // A lent session always comes with its use.
            try await OperationDeadline.$offset.withValue(deadline) {
                Disconnected(try await operation(connection, use!))
            }.take()
        }
        switch completion {
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
    /// the same budget. What to do when is the ``RetryLoop``'s to decide; this only carries it out.
    ///
    /// `operation` gets the session, the operation's deadline, and with `lendsSession` a fresh ``SessionUse`` to
    /// record what app code does. The loop, `operation` and `verify` run in the caller's `isolation`, so that app
    /// code in them may use the caller's state; without one, an attempt runs on its session's I/O thread.
    ///
    /// With `keepingLease`, the session of the attempt that succeeds is handed to it instead of being given back,
    /// with the attempts that failed before: a stream that goes on reading from it gives it back when it ends.
    ///
    /// With `prefersSessionThread` (the default), an attempt's nonisolated code runs on its session's I/O thread, so
    /// that its calls into the session need no switch of threads. An attempt that makes one call into the session
    /// (`withRetries`) passes false: it switches threads twice either way, into the session and out of it, and the
    /// preference would cost it a lock of the task's status on every switch of executors it makes.
    ///
    /// One copy for transactions, lent sessions, streams, COPY and verified writes: ``withRetries(_:_:)``, on the
    /// path of every query, inlines the loop itself
    /// (``retryingInCaller(_:isolation:verify:lendsSession:prefersSessionThread:keepingLease:_:)``).
    func retrying<Result>(
        _ safety: OperationSafety,
        isolation: isolated (any Actor)?,
        verify: (() async throws -> Bool)?,
        lendsSession: Bool = false,
        prefersSessionThread: Bool = true,
        keepingLease: ((ConnectionPool.Lease, [RetryAttempt]) -> Void)? = nil,
        _ operation: (any DatabaseConnection, SessionUse?, OffsetInstant) async throws -> sending Result
    ) async throws -> sending Completion<Result> {
        try await retryingInCaller(
            safety, isolation: isolation, verify: verify, lendsSession: lendsSession,
            prefersSessionThread: prefersSessionThread, keepingLease: keepingLease, operation
        )
    }

    /// ``retrying(_:isolation:verify:lendsSession:prefersSessionThread:keepingLease:_:)``, always inlined.
    ///
    /// Inlined where the operation is a closure literal, the loop calls it directly: no frame of its own for the
    /// loop or for the closure, and about half the switches of executors a query makes under callgrind, the loop's
    /// resumptions after each of its calls among them. Only ``withRetries(_:_:)`` inlines it, with every option but
    /// `safety` a constant, so that the branches it does not take go; each caller of `withRetries` (`query` and
    /// `execute` through `run`, `batch`, and the client's own statements for verified writes and lost server
    /// processes) carries a copy of the loop, and what a success does not need stays out of line.
    @inline(__always)
    func retryingInCaller<Result>(
        _ safety: OperationSafety,
        isolation: isolated (any Actor)?,
        verify: (() async throws -> Bool)?,
        lendsSession: Bool,
        prefersSessionThread: Bool,
        keepingLease: ((ConnectionPool.Lease, [RetryAttempt]) -> Void)?,
        _ operation: (any DatabaseConnection, SessionUse?, OffsetInstant) async throws -> sending Result
    ) async throws -> sending Completion<Result> {
        var loop = RetryLoop(
            policy: configuration.retryPolicy, safety: safety, startingAt: clock.offsetNow,
            enclosingDeadline: OperationDeadline.offset, throttle: throttle, canVerify: verify != nil
        )
        // What the pool and the connection take, as the loop keeps it: an instant of known size, which the statement
        // passes on to its socket waits without an allocation of the task in any async frame on the way.
        let deadline = loop.deadline.end
        // The last failure seen, which the operation's error carries.
        var lastFailure: TransportError?
        // The server process of the last attempt whose session was lost: it may still be running the statement.
        var lostProcess: ServerProcess?
        // Read once: a task-local lookup is not free, and the operation cannot change it.
        let isInternal = InternalOperation.isRunning
        while true {
            if !isInternal { metrics.attempts.increment() }
            // The first wait for a session starts with the operation.
            let waitStart = loop.attempt == 1 ? loop.deadline.start : clock.offsetNow
            let outcome: RetryLoop.Outcome
            do {
                // A warm pool lends and takes back a session without suspending: the suspension points of
                // `acquire` and `release` are only taken when the pool has something to wait for or to run.
                let lease = try await pool.acquire(by: deadline)
                if metrics.isRecorded {
                    metrics.recordAcquire(waitStart.duration(to: clock.offsetNow))
                }
                let use = lendsSession ? SessionUse(inTransactionBlock: safety.isTransactionBlock) : nil
                do {
                    // The attempt runs on the session's I/O thread: its statements then start and resume there
                    // without a switch of threads, and only entering and leaving the attempt cost one. A task
                    // already there (`withSessionThread`) keeps its preference, which costs nothing to keep. App
                    // code isolated to an actor still runs on the actor; the client code it calls runs on the thread.
                    // An attempt of one call into the session runs where the loop runs. A query's or an execute's
                    // steps run there too while the session's thread runs no job (`startInPlace`): one switch of
                    // threads a wait for the answer; a batch, or a statement whose session's thread is busy, moves
                    // into the session and back, two. Neither pays the preference's cost.
                    let connection = lease.connection
                    let executor =
                        prefersSessionThread && !connection.isServedByCurrentThread ? connection.taskExecutor : nil
                    let earlierAttempts = keepingLease == nil ? [] : loop.history
                    // Either way the attempt runs nonisolated. A loop in no actor's isolation without an executor
                    // to prefer (`withRetries`, or a task on the thread already) calls it directly:
                    // `withTaskExecutorPreference` with none changes nothing, but is an async layer of its own, whose
                    // entry and exit and its closure's cost three switches of executors. `isolation` is nil there, so
                    // passing it on passes nil, and, being the loop's own, lets the closures go without `sending`.
                    let result: Result
                    if executor == nil, isolation == nil {
                        result = try await attempt(
                            lease, use: use, deadline: deadline,
                            earlierAttempts: earlierAttempts, keepingLease: keepingLease, isolation: isolation,
                            operation
                        )
                    } else {
                        result = try await withTaskExecutorPreference(executor, isolation: isolation) {
                            Disconnected(try await attempt(
                                lease, use: use, deadline: deadline,
                                earlierAttempts: earlierAttempts, keepingLease: keepingLease, isolation: nil, operation
                            ))
                        }.take()
                    }
                    // The throttle gets its token back; a success always returns.
                    _ = loop.next(after: .succeeded, at: clock.offsetNow, jitter: makeGenerator())
                    report(isInternal: isInternal, AttemptEvent(
                        attempt: loop.attempt, outcome: .succeeded, host: lease.connection.host,
                        port: lease.connection.port, elapsed: loop.deadline.elapsed(at: clock.offsetNow)
                    ))
                    return .completed(result)
                } catch {
                    outcome = try await attemptFailed(
                        error, isolation: isolation, lease: lease, use: use, deadline: deadline,
                        lastFailure: &lastFailure, lostProcess: &lostProcess
                    )
                }
            } catch {
                outcome = try Self.outcome(ofFailure: error, lastFailure: &lastFailure)
            }

            let action = loop.next(after: outcome, at: clock.offsetNow, jitter: makeGenerator())
            let verifiedApplied = try await carryOut(
                action, of: &loop, isolation: isolation, verify: verify, deadline: deadline, lastFailure: lastFailure,
                lostProcess: lostProcess, isInternal: isInternal
            )
            if verifiedApplied { return .verifiedApplied }
        }
    }

    /// Runs one attempt of `operation` on the lent session, and on success hands the session to `keepingLease` or
    /// gives it back to the pool.
    ///
    /// The loop calls it with `isolation` nil (passed as such inside a preference, or as the loop's own when that
    /// is nil), with a preference for the session's thread or without: the attempt, the operation (an ordinary
    /// nonisolated closure) and `pool.release` run in no actor's isolation, on the task's preferred executor if it
    /// has one, never on an app's actor. `isolation` has no default, since `#isolation`
    /// inside the preference's closure is nil while beside it it is the loop's.
    ///
    /// Always inlined: each layer of async calls costs every operation a frame and a switch of executors.
    @inline(__always)
    private func attempt<Result>(
        _ lease: ConnectionPool.Lease,
        use: SessionUse?,
        deadline: OffsetInstant,
        earlierAttempts: [RetryAttempt],
        keepingLease: ((ConnectionPool.Lease, [RetryAttempt]) -> Void)?,
        isolation: isolated (any Actor)?,
        _ operation: (any DatabaseConnection, SessionUse?, OffsetInstant) async throws -> sending Result
    ) async throws -> sending Result {
        let result = try await operation(lease.connection, use, deadline)
        if let keepingLease {
            keepingLease(lease, earlierAttempts)
        } else {
            await pool.release(lease, reuse: true, reset: use.flatMap(SessionReset.init), by: deadline)
        }
        return result
    }

    /// Gives back the session of an attempt that threw `error`, and returns what the loop is told (updating
    /// `lastFailure`, and `lostProcess` when the session was lost); rethrows an error that is not the database's (the
    /// caller's own, a value that does not decode, or the task's cancellation, which the loop's outer `catch` takes
    /// in).
    ///
    /// Out of line: a failure is rare, and every caller that inlines the loop would carry its own copy.
    ///
    /// In the loop's `isolation`, as the loop's own code: a failure seen from an app's actor (a transaction) is
    /// handled there without leaving it.
    @inline(never)
    private func attemptFailed(
        _ error: any Error,
        isolation: isolated (any Actor)?,
        lease: ConnectionPool.Lease,
        use: SessionUse?,
        deadline: OffsetInstant,
        lastFailure: inout TransportError?,
        lostProcess: inout ServerProcess?
    ) async throws -> RetryLoop.Outcome {
        switch error {
        case let error as TransportError:
            var inHotStandby: Bool?
            if error.sqlState == "25006" {
                inHotStandby = await lease.connection.reportsHotStandby()
            }
            if !error.isConnectionUsable { lostProcess = lease.connection.serverProcess }
            // A session on a hot standby is no use to anyone once the primary moved.
            let reuse = error.isConnectionUsable && inHotStandby != true
            await pool.release(lease, reuse: reuse, reset: use.flatMap(SessionReset.init), by: deadline)
            var facts = FailureFacts(error, inHotStandby: inHotStandby)
            facts.earlierWorkMayHaveTakenEffect = use?.mayHaveTakenEffect ?? false
            lastFailure = error
            return .failed(facts)
        case let interrupted as AttemptInterrupted:
            // Past the point of a silent retry (COPY data sent): reported like any failure, never retried.
            let failure = interrupted.failure
            if !failure.isConnectionUsable { lostProcess = lease.connection.serverProcess }
            await pool.release(
                lease, reuse: failure.isConnectionUsable, reset: use.flatMap(SessionReset.init), by: deadline
            )
            lastFailure = failure
            return .interrupted(
                FailureFacts(failure, inHotStandby: nil), mayHaveBeenApplied: interrupted.mayHaveBeenApplied
            )
        default:
            await pool.release(lease, reuse: true, reset: use.flatMap(SessionReset.init), by: deadline)
            throw error
        }
    }

    /// What the loop is told when getting a session, or an attempt, failed with `error` (which updates
    /// `lastFailure`); rethrows an error that is neither the database's nor the pool's (the caller's own).
    ///
    /// Out of line and synchronous: matching an error against `CancellationError`, a value of a size known only at
    /// run time, would cost the async loop an allocation of the task on every operation, failed or not.
    @inline(never)
    private static func outcome(
        ofFailure error: any Error,
        lastFailure: inout TransportError?
    ) throws -> RetryLoop.Outcome {
        switch error {
        case let error as TransportError:
            lastFailure = error
            return .connectFailed(FailureFacts(error, inHotStandby: nil))
        case let timedOut as ConnectionPool.WaitTimedOut:
            lastFailure = timedOut.lastConnectFailure ?? lastFailure
            return .poolTimedOut(lastConnectFailure: timedOut.lastConnectFailure.map {
                FailureFacts($0, inHotStandby: nil)
            })
        case is CancellationError:
            return .cancelled
        case is ConnectionPool.ShutDown:
            return .shutDown
        default:
            throw error
        }
    }

    /// Carries out what `loop` says after a failed attempt, until it runs the operation again (returns false) or
    /// ends it: returns true when a verification found the attempt applied, throws when the operation gives up.
    ///
    /// Never inlined: an async function makes room for every value it may hold on each call, and handling a failure
    /// (a backoff, the pool's prober, a failover, a verification) holds many that a success has no use for.
    @inline(never)
    private func carryOut(
        _ first: RetryLoop.Action,
        of loop: inout RetryLoop,
        isolation: isolated (any Actor)?,
        verify: (() async throws -> Bool)?,
        deadline: OffsetInstant,
        lastFailure: TransportError?,
        lostProcess: ServerProcess?,
        isInternal: Bool
    ) async throws -> Bool {
        var action = first
        while true {
            switch action {
            case .return:
                // A success returns without asking the loop: this is a verification that found the attempt applied.
                return true
            case .verify(let endLostProcessFirst):
                action = await verifyOutcome(
                    verify!, isolation: isolation, loop: &loop, endingFirst: endLostProcessFirst ? lostProcess : nil,
                    deadline: deadline, failure: lastFailure, isInternal: isInternal
                )
            case .runAgain:
                return false
            case .retry(let retry):
                if !isInternal { metrics.recordRetry(retry.errorClass) }
                report(isInternal: isInternal, AttemptEvent(
                    attempt: retry.attempt, outcome: .willRetry(delay: retry.delay, reconnects: retry.reconnects),
                    errorClass: retry.errorClass, sqlState: lastFailure?.sqlState, host: lastFailure?.host,
                    port: lastFailure?.port, elapsed: retry.elapsed
                ))
                logRetry(retry, failure: lastFailure)
                if retry.retiresEpoch {
                    // The session landed on a standby (a failover happened): replace every session of the old epoch.
                    await pool.retireEpoch()
                }
                guard retry.delay > .zero else { return false }
                // In an outage the pool's prober paces the reconnects; waiting for it replaces this backoff.
                if retry.waitsForProber, pool.isInOutage { return false }
                do {
                    try await clock.sleep(for: retry.delay)
                    return false
                } catch {
                    action = loop.next(after: .cancelled, at: clock.offsetNow, jitter: makeGenerator())
                }
            case .giveUp(let giveUp):
                throw error(givingUp: giveUp, history: loop.history, last: lastFailure, isInternal: isInternal)
            }
        }
    }

    /// Asks the operation's verification whether an attempt whose outcome is unknown was applied, once the server
    /// process that ran the attempt, if its session was lost, is gone; returns what `loop` says to do about the
    /// answer. A verification that fails (its own query, or ending the process) leaves the outcome unknown.
    private func verifyOutcome(
        _ verify: () async throws -> Bool,
        isolation: isolated (any Actor)?,
        loop: inout RetryLoop,
        endingFirst lostProcess: ServerProcess?,
        deadline: OffsetInstant,
        failure: TransportError?,
        isInternal: Bool
    ) async -> RetryLoop.Action {
        let applied: Bool
        do {
            if let lostProcess {
                // The lost attempt's statement may still be running on its server: end it before reading its fate.
                try await endLostProcess(lostProcess, deadline: deadline)
            }
            // The verification's own queries spend the operation's budget, not a new one.
            applied = try await OperationDeadline.$offset.withValue(deadline) {
                try await verify()
            }
        } catch {
            logger.warning("verification of an unknown outcome failed", metadata: [
                "postgres.attempts": "\(loop.history.count)",
                "postgres.verification_error": "\(type(of: error))",
            ])
            return loop.verificationFailed(at: clock.offsetNow)
        }
        report(isInternal: isInternal, AttemptEvent(
            attempt: loop.history.count, outcome: applied ? .verifiedApplied : .verifiedNotApplied,
            errorClass: .outcomeUnknown, sqlState: failure?.sqlState, host: failure?.host, port: failure?.port,
            elapsed: loop.deadline.elapsed(at: clock.offsetNow)
        ))
        logger.info("verified an unknown outcome", metadata: [
            "postgres.applied": "\(applied)",
            "postgres.attempt": "\(loop.history.count)",
            "postgres.host": "\(failure?.host ?? "unknown")",
        ])
        return loop.verified(applied: applied, at: clock.offsetNow)
    }

    /// Hands `event` to the app's `onAttempt`, unless it belongs to an operation the client runs for itself
    /// (`isInternal`, which the loop reads from ``InternalOperation`` once per operation).
    private func report(isInternal: Bool, _ event: @autoclosure () -> AttemptEvent) {
        guard !isInternal else { return }
        configuration.onAttempt?(event())
    }

    /// Reports the attempt an operation gives up on, and logs and counts the failure; returns the error to throw.
    func error(
        givingUp giveUp: RetryLoop.GiveUp,
        history: [RetryAttempt],
        last: TransportError?,
        isInternal: Bool
    ) -> PostgresError {
        let last = giveUp.reportsLastFailure ? last : nil
        let error = PostgresError(
            errorClass: giveUp.errorClass,
            reason: giveUp.reason,
            history: history,
            elapsed: giveUp.elapsed,
            lastFailure: last,
            mayHaveBeenApplied: giveUp.mayHaveBeenApplied
        )
        report(isInternal: isInternal, AttemptEvent(
            attempt: giveUp.attempt, outcome: .gaveUp(giveUp.reason), errorClass: giveUp.errorClass,
            sqlState: last?.sqlState, host: last?.host, port: last?.port, elapsed: giveUp.elapsed
        ))
        if !isInternal { metrics.recordGiveUp(giveUp.errorClass, reason: giveUp.reason) }
        let level: Logger.Level = giveUp.errorClass == .permanent ? .debug : .warning
        logger.log(level: level, "operation failed", metadata: [
            "postgres.class": "\(giveUp.errorClass.name)",
            "postgres.reason": "\(giveUp.reason)",
            "postgres.attempts": "\(error.attempts)",
            "postgres.sqlstate": "\(last?.sqlState?.code ?? "none")",
            "postgres.host": "\(last?.host ?? "unknown")",
        ])
        return error
    }

    private func logRetry(_ retry: RetryLoop.Retry, failure: TransportError?) {
        let action: String =
            switch retry.decision {
            case .retrySameConnection: "retry"
            case .reconnect: "reconnect"
            case .backOff: "back off"
            case .fail: "fail"
            }
        logger.info("retrying", metadata: [
            "postgres.class": "\(retry.errorClass.name)",
            "postgres.action": "\(action)",
            "postgres.attempt": "\(retry.attempt)",
            "postgres.delay_ms": "\(retry.delay / .milliseconds(1))",
            "postgres.sqlstate": "\(failure?.sqlState?.code ?? "none")",
            "postgres.host": "\(failure?.host ?? "unknown")",
        ])
    }
}
