import PostgresPolicy
import Testing

@Suite("Retry decision")
struct DecisionTests {
    static let dropped = FailureFacts(message: "server closed the connection unexpectedly", phase: .sent,
                                      isConnectionUsable: false)
    static let slotsFull = FailureFacts(sqlState: .tooManyConnections, severity: .fatal,
                                        message: "sorry, too many clients already", phase: .connecting,
                                        isConnectionUsable: false)
    static let conflict = FailureFacts(sqlState: .serializationFailure, severity: .error,
                                       message: "could not serialize access", phase: .commitInFlight,
                                       isConnectionUsable: true)

    struct Run {
        var policy = RetryPolicy.default
        var budget = RetryPolicy.default.makeBudget(startingAt: TestInstant.zero)
        var generator = SplitMix64(seed: 11)
        var throttle: RetryThrottle? = nil

        mutating func decide(_ failure: FailureFacts, _ safety: OperationSafety, at second: Int64 = 0) -> RetryDecision {
            policy.decide(failure, for: safety, budget: &budget, now: TestInstant(offset: .seconds(second)),
                          throttle: throttle, using: &generator)
        }
    }

    /// A credential provider's transient failure backs off like an unreachable server; a permanent one fails at once.
    @Test func credentialProviderFailuresBackOffOrFailAsMarked() {
        func facts(_ kind: FailureFacts.Kind) -> FailureFacts {
            FailureFacts(message: "the credential provider failed: URLError", phase: .connecting,
                         isConnectionUsable: false, kind: kind)
        }
        var transient = Run()
        guard case .backOff(let delay) = transient.decide(facts(.credentialUnavailable), .autocommitWrite) else {
            Issue.record("a transient credential failure is retried with backoff")
            return
        }
        #expect(delay > .zero)
        var permanent = Run()
        #expect(permanent.decide(facts(.credentialRefused), .autocommitWrite) == .fail(.permanent))
    }

    /// A transaction block is re-run whole when its connection dies before COMMIT, not when COMMIT was in flight.
    @Test func transactionBlockIsReRunWholeWhenItsConnectionDiesBeforeCOMMIT() {
        var before = Run()
        #expect(before.decide(Self.dropped, .transactionBlock) == .reconnect(after: .zero))
        var during = Run()
        var lostCommit = Self.dropped
        lostCommit.phase = .commitInFlight
        #expect(during.decide(lostCommit, .transactionBlock) == .fail(.outcomeUnknown))
    }

    /// A read-only or idempotent transaction block is re-run even when its COMMIT was lost.
    @Test func readOnlyOrIdempotentTransactionBlockIsReRunEvenWhenItsCOMMITWasLost() {
        var lostCommit = Self.dropped
        lostCommit.phase = .commitInFlight
        for safety in [OperationSafety(isTransactionBlock: true, isReadOnly: true),
                       OperationSafety(isTransactionBlock: true, isIdempotent: true)] {
            var run = Run()
            #expect(run.decide(lostCommit, safety) == .reconnect(after: .zero))
        }
    }

    /// A conflict at COMMIT rolled back, so the block is re-run on the same connection after a short wait.
    @Test func conflictAtCommitIsReRunOnTheSameConnectionAfterAShortWait() {
        var run = Run()
        let decision = run.decide(Self.conflict, .transactionBlock)
        guard case .retrySameConnection(let delay) = decision else {
            Issue.record("expected a retry on the same connection, got \(decision)")
            return
        }
        #expect(delay <= RetryPolicy.default.backoff.nominalDelay(forRetry: 1))
    }

    @Test func onlyTheFirstReconnectAfterASingleDropIsImmediate() {
        var run = Run()
        #expect(run.decide(Self.dropped, .readOnly) == .reconnect(after: .zero))
        let second = run.decide(Self.dropped, .readOnly, at: 1)
        guard case .reconnect(let delay) = second else {
            Issue.record("expected a reconnect, got \(second)")
            return
        }
        #expect(delay > .zero)
        #expect(delay <= RetryPolicy.default.backoff.nominalDelay(forRetry: 1))
    }

    @Test func withImmediateReconnectsTurnedOffTheFirstReconnectWaitsToo() {
        var run = Run()
        run.policy.reconnectsAtOnceAfterFirstDrop = false
        #expect(run.decide(Self.dropped, .readOnly).delay ?? .zero > .zero)
    }

    @Test func resourceLimitWaitsAtLeastTheResourceLimitBackoffsBase() {
        for seed in UInt64(0)..<100 {
            var run = Run()
            run.generator = SplitMix64(seed: seed)
            var delays: [Duration] = []
            for second in 0..<5 as Range<Int64> {
                let decision = run.decide(Self.slotsFull, .autocommitWrite, at: second)
                guard case .backOff(let delay) = decision else {
                    Issue.record("expected to back off, got \(decision)")
                    return
                }
                delays.append(delay)
            }
            #expect(delays.allSatisfy { $0 >= .seconds(1) && $0 <= .seconds(30) })
        }
    }

    /// An outcome-unknown failure is retried only when the operation may be repeated.
    @Test func outcomeUnknownFailureIsRetriedOnlyWhenTheOperationMayBeRepeated() {
        let lostCommit = FailureFacts(sqlState: .adminShutdown, severity: .warning,
                                      message: "server closed the connection unexpectedly",
                                      detail: "The transaction has already committed locally, but might not have been replicated.",
                                      phase: .commitInFlight, isConnectionUsable: false)
        let cases: [(OperationSafety, Bool)] = [
            (.autocommitWrite, false), (.transactionBlock, false), (.idempotent, true), (.readOnly, true),
        ]
        for (safety, retried) in cases {
            var run = Run()
            #expect(run.decide(lostCommit, safety).isRetry == retried, "\(safety)")
        }
    }

    /// A write whose answer was lost is never retried, however many times it is asked.
    @Test func writeWhoseAnswerWasLostIsNeverRetried() {
        for seed in UInt64(0)..<50 {
            var run = Run()
            run.generator = SplitMix64(seed: seed)
            #expect(run.decide(Self.dropped, .autocommitWrite) == .fail(.outcomeUnknown))
            #expect(run.budget.attempts.map(\.delay) == [nil])
        }
    }

    @Test func historyRecordsEachAttemptsClassTimeAndWait() {
        var run = Run()
        _ = run.decide(Self.dropped, .readOnly, at: 0)
        _ = run.decide(Self.slotsFull, .readOnly, at: 2)
        let statementTimeout = FailureFacts(sqlState: .queryCanceled, severity: .error,
                                            message: "canceling statement due to statement timeout", phase: .sent,
                                            isConnectionUsable: true)
        #expect(run.decide(statementTimeout, .readOnly, at: 5) == .fail(.timedOut))
        let attempts = run.budget.attempts
        #expect(attempts.map(\.errorClass) == [.serverWentAway, .resourceLimit, .deadline])
        #expect(attempts.map(\.elapsed) == [.zero, .seconds(2), .seconds(5)])
        #expect(attempts.map(\.sqlState) == [nil, .tooManyConnections, .queryCanceled])
        #expect(attempts[0].delay == .zero)
        #expect(attempts[1].delay ?? .zero >= .seconds(1))
        #expect(attempts[2].delay == nil)
    }
}
