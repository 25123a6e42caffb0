import PostgresPolicy
import Testing

@Suite("Budget")
struct BudgetTests {
    static let refused = FailureFacts(message: "Connection refused", phase: .connecting, isConnectionUsable: false)
    static let dropped = FailureFacts(message: "server closed the connection unexpectedly", phase: .sent,
                                      isConnectionUsable: false)

    /// Fails every attempt until the policy gives up; attempts take a random time. Returns the budget.
    static func runUntilGivingUp(
        policy: RetryPolicy,
        failure: FailureFacts,
        seed: UInt64
    ) -> (budget: RetryBudget<TestInstant>, decision: RetryDecision, end: TestInstant) {
        var generator = SplitMix64(seed: seed)
        var attemptTimes = SplitMix64(seed: ~seed)
        var now = TestInstant.zero
        var budget = policy.makeBudget(startingAt: now)
        while true {
            now = now.advanced(by: .milliseconds(Int64.random(in: 0...3000, using: &attemptTimes)))
            let decision = policy.decide(failure, for: .readOnly, budget: &budget, now: now, using: &generator)
            guard let delay = decision.delay else { return (budget, decision, now) }
            now = now.advanced(by: delay)
        }
    }

    @Test(arguments: [RetryPolicy.default, .azure,
        RetryPolicy(backoff: .decorrelatedJitter(base: .milliseconds(500), cap: .seconds(20)), budget: .seconds(30))])
    func sumOfDelaysNeverPassesTheBudget(policy: RetryPolicy) {
        for seed in UInt64(0)..<200 {
            let (budget, decision, _) = Self.runUntilGivingUp(policy: policy, failure: Self.refused, seed: seed)
            #expect(decision == .fail(.budgetExhausted))
            let delays = budget.attempts.compactMap(\.delay)
            #expect(delays.reduce(.zero, +) < policy.budget)
            // Every retry started before the deadline.
            for attempt in budget.attempts {
                if let delay = attempt.delay {
                    #expect(attempt.elapsed + delay < policy.budget)
                }
            }
            #expect(budget.attempts.last?.delay == nil)
            #expect(budget.attempts.map(\.number) == Array(1...budget.attempts.count))
        }
    }

    /// A delay that would cross the deadline ends the operation now, keeping the history.
    @Test func delayThatWouldCrossTheDeadlineEndsTheOperationNow() {
        let policy = RetryPolicy(backoff: .constant(.seconds(4)), budget: .seconds(10))
        var budget = policy.makeBudget(startingAt: TestInstant.zero)
        var generator = SplitMix64(seed: 1)
        var decisions: [RetryDecision] = []
        for second in [0, 4, 8] as [Int64] {
            decisions.append(policy.decide(Self.refused, for: .readOnly, budget: &budget,
                                           now: TestInstant(offset: .seconds(second)), using: &generator))
        }
        #expect(decisions == [.backOff(for: .seconds(4)), .backOff(for: .seconds(4)), .fail(.budgetExhausted)])
        #expect(budget.attempts.map(\.elapsed) == [.zero, .seconds(4), .seconds(8)])
        #expect(budget.attempts.map(\.delay) == [.seconds(4), .seconds(4), nil])
        #expect(budget.attempts.allSatisfy { $0.errorClass == .unreachable })
        #expect(budget.remaining(at: TestInstant(offset: .seconds(8))) == .seconds(2))
    }

    @Test func failureAfterTheDeadlineFailsEvenWhenTheRetryWouldBeImmediate() {
        var budget = RetryPolicy.default.makeBudget(startingAt: TestInstant.zero)
        var generator = SplitMix64(seed: 1)
        let decision = RetryPolicy.default.decide(Self.dropped, for: .readOnly, budget: &budget,
                                                  now: TestInstant(offset: .seconds(61)), using: &generator)
        #expect(decision == .fail(.budgetExhausted))
        #expect(budget.remaining(at: TestInstant(offset: .seconds(61))) == .zero)
    }

    @Test(arguments: [1, 2, 5])
    func attemptLimitCountsTheFirstAttempt(maxAttempts: Int) throws {
        let policy = RetryPolicy(maxAttempts: maxAttempts)
        var budget = policy.makeBudget(startingAt: TestInstant.zero)
        var generator = SplitMix64(seed: 5)
        var retries = 0
        while policy.decide(Self.refused, for: .readOnly, budget: &budget, now: .zero, using: &generator).isRetry {
            retries += 1
        }
        #expect(retries == maxAttempts - 1)
        #expect(budget.attempts.count == maxAttempts)
        let last = try #require(budget.lastAttempt)
        #expect(last.delay == nil)
    }

    @Test func defaultBudgetIs60SecondsFromTheOperationsStart() {
        let start = TestInstant(offset: .seconds(100))
        let budget = RetryPolicy.default.makeBudget(startingAt: start)
        #expect(budget.deadline.budget == .seconds(60))
        #expect(budget.deadline.end == TestInstant(offset: .seconds(160)))
        #expect(budget.remaining(at: TestInstant(offset: .seconds(130))) == .seconds(30))
        #expect(!budget.deadline.hasPassed(at: TestInstant(offset: .seconds(159))))
        #expect(budget.deadline.hasPassed(at: TestInstant(offset: .seconds(160))))
        #expect(budget.maxAttempts == nil)
    }

    @Test func worksWithContinuousClocksInstants() {
        let now = ContinuousClock.now
        var budget = RetryPolicy.default.makeBudget(startingAt: now)
        var generator = SplitMix64(seed: 2)
        let decision = RetryPolicy.default.decide(Self.refused, for: .readOnly, budget: &budget, now: now,
                                                  using: &generator)
        #expect(decision.isRetry)
        #expect(budget.remaining(at: now) == .seconds(60))
    }
}
