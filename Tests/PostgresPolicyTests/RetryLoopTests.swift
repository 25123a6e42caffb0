import PostgresPolicy
import Testing

@Suite("Retry loop")
struct RetryLoopTests {
    typealias Loop = RetryLoop

    static let refused = FailureFacts(message: "Connection refused", phase: .connecting, isConnectionUsable: false)
    static let dropped = FailureFacts(message: "server closed the connection unexpectedly", phase: .sent,
                                      isConnectionUsable: false)
    static let conflict = FailureFacts(sqlState: .serializationFailure, severity: .error,
                                       message: "could not serialize access", phase: .sent, isConnectionUsable: true)
    static let syntaxError = FailureFacts(sqlState: "42601", severity: .error, message: "syntax error", phase: .sent,
                                          isConnectionUsable: true)
    /// 40003 on a session that survives: the outcome is unknown, but no server process was left behind.
    static let completionUnknown = FailureFacts(sqlState: .statementCompletionUnknown, severity: .error,
                                                message: "statement completion unknown", phase: .sent,
                                                isConnectionUsable: true)
    /// A write that reached a hot standby.
    static let onStandby = FailureFacts(sqlState: .readOnlySQLTransaction, severity: .error,
                                        message: "cannot execute INSERT in a read-only transaction", phase: .sent,
                                        isConnectionUsable: true, inHotStandby: true)
    /// `target_session_attrs=read-write` found only standbys.
    static let onlyStandbys = FailureFacts(message: "session is read-only", phase: .connecting,
                                           isConnectionUsable: false)

    /// One operation's loop, fed outcomes at instants the test sets.
    struct Run {
        var loop: Loop
        var now = OffsetInstant.zero

        init(
            _ safety: OperationSafety,
            policy: RetryPolicy = .default,
            throttle: RetryThrottle? = nil,
            canVerify: Bool = false
        ) {
            loop = Loop(policy: policy, safety: safety, startingAt: .zero, throttle: throttle, canVerify: canVerify)
        }

        mutating func next(_ outcome: Loop.Outcome, at second: Int64? = nil) -> Loop.Action {
            if let second { now = .seconds(second) }
            return loop.next(after: outcome, at: now, jitter: SplitMix64(seed: 11))
        }

        mutating func verified(applied: Bool, at second: Int64) -> Loop.Action {
            now = .seconds(second)
            return loop.verified(applied: applied, at: now)
        }
    }

    static func giveUp(
        attempt: Int,
        _ errorClass: ErrorClass,
        _ reason: RetryDecision.Reason,
        mayHaveBeenApplied: Bool = false,
        reportsLastFailure: Bool = true,
        elapsed: Duration = .zero
    ) -> Loop.Action {
        .giveUp(Loop.GiveUp(
            attempt: attempt, errorClass: errorClass, reason: reason, mayHaveBeenApplied: mayHaveBeenApplied,
            reportsLastFailure: reportsLastFailure, elapsed: elapsed
        ))
    }

    /// A success returns and gives a token back, reading neither the clock nor a random source.
    @Test func successReturnsAndGivesATokenBack() {
        let throttle = RetryThrottle(maxTokens: 10, tokenRatio: 0.5)
        throttle.recordFailure()
        var loop = Loop(policy: .default, safety: .autocommitWrite, startingAt: .zero, throttle: throttle)
        var reads = 0
        let action = loop.next(
            after: .succeeded,
            at: { reads += 1; return OffsetInstant.zero }(),
            jitter: { reads += 1; return SplitMix64(seed: 1) }()
        )
        #expect(action == .return)
        #expect(reads == 0)
        #expect(throttle.tokens == 9.5)
        #expect(loop.attempt == 1)
    }

    @Test func randomSourceIsMadeOnceAtTheFirstFailureThatDecides() {
        var loop = Loop(policy: .default, safety: .readOnly, startingAt: .zero)
        var made = 0
        for second in 0..<3 as Range<Int64> {
            _ = loop.next(
                after: .connectFailed(Self.refused), at: .seconds(second),
                jitter: { made += 1; return SplitMix64(seed: 5) }()
            )
        }
        #expect(made == 1)
    }

    /// A retry carries the policy's decision, the failed attempt and the time, and records it.
    @Test func retryCarriesThePolicysDecision() {
        var run = Run(.readOnly)
        var budget = RetryPolicy.default.makeBudget(startingAt: OffsetInstant.zero)
        var generator = SplitMix64(seed: 11)
        var expected: [RetryDecision] = []
        var actions: [Loop.Action] = []
        for (second, failure) in [(0, Self.conflict), (1, Self.dropped), (3, Self.refused)] as [(Int64, FailureFacts)] {
            let now = OffsetInstant.seconds(second)
            expected.append(RetryPolicy.default.decide(failure, for: .readOnly, budget: &budget, now: now,
                                                       using: &generator))
            actions.append(run.next(failure.phase == .connecting ? .connectFailed(failure) : .failed(failure),
                                    at: second))
        }
        let retries = actions.compactMap { action -> Loop.Retry? in
            if case .retry(let retry) = action { retry } else { nil }
        }
        #expect(retries.map(\.decision) == expected)
        #expect(retries.map(\.attempt) == [1, 2, 3])
        #expect(retries.map(\.errorClass) == [.transactionConflict, .serverWentAway, .unreachable])
        #expect(retries.map(\.elapsed) == [.zero, .seconds(1), .seconds(3)])
        #expect(retries.map(\.reconnects) == [false, true, false])
        #expect(run.loop.history == budget.attempts)
        #expect(run.loop.attempt == 4)
    }

    /// Only a failure to connect, with a wait to spend, may wait for the pool's prober instead.
    @Test func onlyAFailureToConnectMayWaitForThePoolsProber() {
        var connecting = Run(.readOnly)
        guard case .retry(let first) = connecting.next(.connectFailed(Self.onlyStandbys)),
              case .retry(let second) = connecting.next(.connectFailed(Self.onlyStandbys)),
              case .retry(let refused) = connecting.next(.connectFailed(Self.refused))
        else {
            Issue.record("expected three retries")
            return
        }
        // The first reconnect after a single drop is at once: there is no wait to replace.
        #expect(first.delay == .zero && !first.waitsForProber)
        #expect(second.delay > .zero && second.waitsForProber)
        #expect(refused.delay > .zero && refused.waitsForProber)

        var lost = Run(.readOnly)
        _ = lost.next(.failed(Self.dropped))
        guard case .retry(let again) = lost.next(.failed(Self.dropped)) else {
            Issue.record("expected a retry")
            return
        }
        #expect(again.delay > .zero && !again.waitsForProber)
    }

    /// A retry replaces the pool's sessions only after finding a standby where the primary was.
    @Test func retryReplacesThePoolsSessionsOnlyAfterFindingAStandbyWhereThePrimaryWas() {
        let cases: [(Loop.Outcome, Bool)] = [
            (.failed(Self.onStandby), true), (.connectFailed(Self.onlyStandbys), true),
            (.failed(Self.dropped), false), (.failed(Self.conflict), false), (.connectFailed(Self.refused), false),
        ]
        for (outcome, retires) in cases {
            var run = Run(.readOnly)
            guard case .retry(let retry) = run.next(outcome) else {
                Issue.record("expected a retry after \(outcome)")
                continue
            }
            #expect(retry.retiresEpoch == retires, "\(outcome)")
        }
    }

    @Test func permanentFailureGivesUpWithItsClassAfterOneAttempt() {
        var run = Run(.readOnly)
        #expect(run.next(.failed(Self.syntaxError), at: 2) == Self.giveUp(
            attempt: 1, .permanent, .permanent, elapsed: .seconds(2)
        ))
        #expect(run.loop.history.map(\.delay) == [nil])
    }

    /// A write whose answer was lost gives up as outcome unknown, may have been applied.
    @Test func writeWhoseAnswerWasLostGivesUpAsOutcomeUnknown() {
        var run = Run(.autocommitWrite)
        #expect(run.next(.failed(Self.dropped)) == Self.giveUp(
            attempt: 1, .outcomeUnknown, .outcomeUnknown, mayHaveBeenApplied: true
        ))
    }

    /// With a verification, a lost write is verified after its lost session's process ends; applied returns.
    @Test func withAVerificationALostWriteIsVerifiedAfterItsLostSessionsProcessEnds() {
        var run = Run(.autocommitWrite, canVerify: true)
        #expect(run.next(.failed(Self.dropped)) == .verify(endLostProcessFirst: true))
        #expect(run.loop.mayHaveBeenApplied)
        #expect(run.verified(applied: true, at: 1) == .return)
    }

    /// An unknown outcome on a session that survives is verified with no process to end.
    @Test func unknownOutcomeOnASessionThatSurvivesIsVerifiedWithNoProcessToEnd() {
        var run = Run(.autocommitWrite, canVerify: true)
        #expect(run.next(.failed(Self.completionUnknown)) == .verify(endLostProcessFirst: false))
    }

    @Test func processToEndIsTheLastLostSessionsWhateverConnectsFailedSince() {
        // 08007 while connecting: the outcome is unknown, and no session of this attempt was lost.
        let resolutionUnknown = FailureFacts(sqlState: .transactionResolutionUnknown, severity: .fatal,
                                             message: "transaction resolution unknown", phase: .connecting,
                                             isConnectionUsable: false)
        var afterLost = Run(.transactionBlock, canVerify: true)
        // A block lost before its COMMIT was sent rolled back: it is run again.
        #expect(afterLost.next(.failed(Self.dropped)).isRetry)
        #expect(afterLost.next(.connectFailed(resolutionUnknown)) == .verify(endLostProcessFirst: true))

        var afterUsable = Run(.transactionBlock, canVerify: true)
        #expect(afterUsable.next(.failed(Self.dropped)).isRetry)
        #expect(afterUsable.next(.failed(Self.conflict)).isRetry)
        #expect(afterUsable.next(.connectFailed(resolutionUnknown)) == .verify(endLostProcessFirst: false))
    }

    @Test func notAppliedRunsTheOperationAgainAtOnceNoLongerInDoubt() {
        var run = Run(.autocommitWrite, canVerify: true)
        _ = run.next(.failed(Self.dropped))
        #expect(run.verified(applied: false, at: 1) == .runAgain)
        #expect(!run.loop.mayHaveBeenApplied)
        #expect(run.loop.attempt == 2)
        #expect(run.next(.succeeded) == .return)
    }

    /// Not applied after the last attempt allowed gives up with the failure's class, not in doubt.
    @Test func notAppliedAfterTheLastAttemptAllowedGivesUpWithTheFailuresClass() {
        var run = Run(.autocommitWrite, policy: RetryPolicy(maxAttempts: 2), canVerify: true)
        _ = run.next(.failed(Self.dropped))
        #expect(run.verified(applied: false, at: 1) == .runAgain)
        #expect(run.next(.failed(Self.dropped), at: 2) == .verify(endLostProcessFirst: true))
        #expect(run.verified(applied: false, at: 3) == Self.giveUp(
            attempt: 2, .serverWentAway, .attemptLimitReached, elapsed: .seconds(3)
        ))
    }

    @Test func notAppliedOnceTheDeadlineHasPassedGivesUpAsBudgetExhausted() {
        var run = Run(.autocommitWrite, policy: RetryPolicy(budget: .seconds(10)), canVerify: true)
        _ = run.next(.failed(Self.dropped), at: 4)
        #expect(run.verified(applied: false, at: 10) == Self.giveUp(
            attempt: 1, .serverWentAway, .budgetExhausted, elapsed: .seconds(10)
        ))
    }

    @Test func verificationThatFailsLeavesTheOutcomeUnknown() {
        var run = Run(.autocommitWrite, canVerify: true)
        _ = run.next(.failed(Self.dropped))
        #expect(run.loop.verificationFailed(at: .seconds(2)) == Self.giveUp(
            attempt: 1, .outcomeUnknown, .outcomeUnknown, mayHaveBeenApplied: true, elapsed: .seconds(2)
        ))
    }

    /// No verification once earlier work on the session may have taken effect: neither answer would be true.
    @Test func noVerificationOnceEarlierWorkOnTheSessionMayHaveTakenEffect() {
        var afterCommit = Self.conflict
        afterCommit.earlierWorkMayHaveTakenEffect = true
        var run = Run(.autocommitWrite, canVerify: true)
        #expect(run.next(.failed(afterCommit)) == Self.giveUp(
            attempt: 1, .outcomeUnknown, .outcomeUnknown, mayHaveBeenApplied: true
        ))
    }

    /// Waiting for a session past the deadline is reported as the next attempt, with the last connect's class.
    @Test func waitingForASessionPastTheDeadlineIsReportedAsTheNextAttempt() {
        var run = Run(.readOnly)
        #expect(run.next(.poolTimedOut(lastConnectFailure: nil), at: 60) == Self.giveUp(
            attempt: 1, .resourceLimit, .budgetExhausted, elapsed: .seconds(60)
        ))

        var outage = Run(.readOnly)
        #expect(outage.next(.connectFailed(Self.refused)).isRetry)
        #expect(outage.next(.poolTimedOut(lastConnectFailure: Self.refused), at: 60) == Self.giveUp(
            attempt: 2, .unreachable, .budgetExhausted, elapsed: .seconds(60)
        ))
    }

    /// Cancelled gives up as cancelled, still saying whether an attempt may have been applied.
    @Test func cancelledGivesUpAsCancelled() {
        var run = Run(.idempotent)
        // A lost idempotent write may have been applied; it may also be repeated.
        #expect(run.next(.failed(Self.dropped)).isRetry)
        #expect(run.next(.cancelled, at: 1) == Self.giveUp(
            attempt: 2, .cancelled, .cancelled, mayHaveBeenApplied: true, elapsed: .seconds(1)
        ))
    }

    @Test func shutDownGivesUpAsPermanentWithoutTheLastFailure() {
        var run = Run(.readOnly)
        _ = run.next(.connectFailed(Self.refused))
        #expect(run.next(.shutDown, at: 1) == Self.giveUp(
            attempt: 2, .permanent, .permanent, reportsLastFailure: false, elapsed: .seconds(1)
        ))
    }

    @Test func budgetEndsNoLaterThanTheEnclosingOperationsDeadline() {
        let start = OffsetInstant.seconds(100)
        let cases: [(enclosing: OffsetInstant?, end: OffsetInstant)] = [
            (nil, start.advanced(by: .seconds(60))),
            (start.advanced(by: .seconds(5)), start.advanced(by: .seconds(5))),
            (start.advanced(by: .seconds(90)), start.advanced(by: .seconds(60))),
            // Already past: the operation has no time at all.
            (start.advanced(by: .seconds(-1)), start),
        ]
        for (enclosing, end) in cases {
            var loop = Loop(policy: RetryPolicy(maxAttempts: 1), safety: .readOnly, startingAt: start,
                            enclosingDeadline: enclosing)
            #expect(loop.deadline.start == start)
            #expect(loop.deadline.end == end)
            // The policy's attempt limit holds all the same.
            let action = loop.next(after: .connectFailed(Self.refused), at: start, jitter: SplitMix64(seed: 1))
            #expect(action == Self.giveUp(attempt: 1, .unreachable, .attemptLimitReached))
        }
    }

    @Test func throttleIsToldOfFailuresThatSpendATokenAndStopsRetries() {
        let throttle = RetryThrottle(maxTokens: 2, tokenRatio: 0.1)
        var run = Run(.readOnly, throttle: throttle)
        #expect(run.next(.failed(Self.conflict)) == Self.giveUp(attempt: 1, .transactionConflict, .throttled))
        #expect(throttle.tokens == 1)
    }

    /// An attempt interrupted past the point of a silent retry gives up after it, whatever the operation allows:
    /// recorded in the history after the attempts before it, told to the throttle, with the lost session's process
    /// ended before a verification would run.
    @Test func interruptedAttemptGivesUpAfterItsEarlierAttempts() {
        let throttle = RetryThrottle(maxTokens: 10, tokenRatio: 0.5)
        var run = Run(.idempotent, throttle: throttle)
        #expect(run.next(.connectFailed(Self.refused)).isRetry)
        let tokens = throttle.tokens
        #expect(run.next(.interrupted(Self.dropped, mayHaveBeenApplied: false), at: 3) == Self.giveUp(
            attempt: 2, .serverWentAway, .streamInterrupted, elapsed: .seconds(3)
        ))
        #expect(run.loop.history.map(\.number) == [1, 2])
        #expect(throttle.tokens == tokens - 1)
    }

    /// An attempt interrupted after the end of its data was sent may have been applied: the outcome is unknown.
    @Test func interruptedAttemptThatMayHaveBeenAppliedGivesUpAsOutcomeUnknown() {
        var run = Run(.idempotent)
        #expect(run.next(.interrupted(Self.dropped, mayHaveBeenApplied: true)) == Self.giveUp(
            attempt: 1, .outcomeUnknown, .outcomeUnknown, mayHaveBeenApplied: true
        ))
        #expect(RetryLoop.reason(interruptedBy: .cancelled, mayHaveBeenApplied: true) == .cancelled)
        #expect(RetryLoop.reason(interruptedBy: .deadline, mayHaveBeenApplied: true) == .timedOut)
        #expect(RetryLoop.reason(interruptedBy: .permanent, mayHaveBeenApplied: true) == .permanent)
    }
}

extension RetryLoop.Action {
    /// Whether the action runs the operation again.
    var isRetry: Bool {
        switch self {
        case .retry, .runAgain: true
        case .return, .verify, .giveUp: false
        }
    }
}

extension OffsetInstant {
    static let zero = OffsetInstant(offset: .zero)

    /// The instant `seconds` after the zero.
    static func seconds(_ seconds: Int64) -> OffsetInstant {
        OffsetInstant(offset: .seconds(seconds))
    }
}
