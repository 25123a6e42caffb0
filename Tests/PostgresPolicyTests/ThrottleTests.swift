import PostgresPolicy
import Testing

@Suite("Retry throttle")
struct ThrottleTests {
    static let dropped = FailureFacts(message: "server closed the connection unexpectedly", phase: .sent,
                                      isConnectionUsable: false)
    static let refused = FailureFacts(message: "Connection refused", phase: .connecting, isConnectionUsable: false)

    /// The first decision of a fresh operation sharing `throttle`.
    static func decide(_ failure: FailureFacts, throttle: RetryThrottle) -> RetryDecision {
        var budget = RetryPolicy.default.makeBudget(startingAt: TestInstant.zero)
        var generator = SplitMix64(seed: 3)
        return RetryPolicy.default.decide(failure, for: .readOnly, budget: &budget, now: .zero, throttle: throttle,
                                          using: &generator)
    }

    @Test func tripsUnderSustainedFailureAndRecoversAfterSuccesses() {
        let throttle = RetryThrottle(maxTokens: 10, tokenRatio: 0.1)
        var decisions: [RetryDecision] = []
        for _ in 0..<8 {
            decisions.append(Self.decide(Self.dropped, throttle: throttle))
        }
        // 10 tokens; retries need more than 5: the fifth failure leaves 5.
        #expect(decisions.prefix(4).allSatisfy { $0.isRetry })
        #expect(decisions.dropFirst(4).allSatisfy { $0 == .fail(.throttled) })
        #expect(throttle.tokens == 2)
        #expect(!throttle.isRetryPermitted)

        // From 2 tokens, 31 successes make 5.1.
        for _ in 0..<30 { throttle.recordSuccess() }
        #expect(!throttle.isRetryPermitted)
        #expect(Self.decide(Self.dropped, throttle: throttle) == .fail(.throttled))
        for _ in 0..<50 { throttle.recordSuccess() }
        #expect(throttle.isRetryPermitted)
        #expect(Self.decide(Self.dropped, throttle: throttle).isRetry)
    }

    /// Successes never fill the bucket past its size, and failures never drain it below zero.
    @Test func successesNeverFillTheBucketPastItsSize() {
        let throttle = RetryThrottle(maxTokens: 4, tokenRatio: 0.5)
        for _ in 0..<10 { throttle.recordSuccess() }
        #expect(throttle.tokens == 4)
        for _ in 0..<10 { throttle.recordFailure() }
        #expect(throttle.tokens == 0)
        #expect(throttle.maxTokens == 4)
        #expect(throttle.tokenRatio == 0.5)
    }

    @Test func failingToReachAServerCostsNoTokenAFullConnectionTableDoes() {
        let throttle = RetryThrottle(maxTokens: 10, tokenRatio: 0.1)
        for _ in 0..<20 {
            #expect(Self.decide(Self.refused, throttle: throttle).isRetry)
        }
        #expect(throttle.tokens == 10)
        let slotsFull = FailureFacts(sqlState: .tooManyConnections, severity: .fatal, message: "too many clients",
                                     phase: .connecting, isConnectionUsable: false)
        _ = Self.decide(slotsFull, throttle: throttle)
        #expect(throttle.tokens == 9)
    }

    @Test func failureThatIsNotRetriedStillCountsAgainstTheBucket() {
        let throttle = RetryThrottle(maxTokens: 10, tokenRatio: 0.1)
        var budget = RetryPolicy.default.makeBudget(startingAt: TestInstant.zero)
        var generator = SplitMix64(seed: 3)
        let decision = RetryPolicy.default.decide(Self.dropped, for: .autocommitWrite, budget: &budget, now: .zero,
                                                  throttle: throttle, using: &generator)
        #expect(decision == .fail(.outcomeUnknown))
        #expect(throttle.tokens == 9)
    }

    @Test func isSharedSafelyAcrossConcurrentOperations() async {
        let throttle = RetryThrottle(maxTokens: 1000, tokenRatio: 1)
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<400 {
                group.addTask {
                    if index.isMultiple(of: 2) { throttle.recordFailure() } else { throttle.recordSuccess() }
                }
            }
        }
        // 200 failures and 200 successes of one token each, from full: between 800 and 1000 whatever the order.
        #expect(throttle.tokens >= 800 && throttle.tokens <= 1000)
        for _ in 0..<1000 { throttle.recordFailure() }
        #expect(throttle.tokens == 0)
    }
}
