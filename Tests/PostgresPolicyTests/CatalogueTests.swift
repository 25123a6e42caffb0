import PostgresPolicy
import Testing

@Suite("Fault catalogue")
struct CatalogueTests {
    @Test(arguments: Fault.catalogue + Fault.pgbouncer)
    func classOfEveryCataloguedFault(of fault: Fault) {
        for situation in Situation.allCases {
            #expect(fault.facts(in: situation).errorClass == fault.errorClass, "\(situation)")
        }
    }

    @Test(arguments: Fault.catalogue + Fault.pgbouncer, Situation.allCases)
    func decisionForEveryCataloguedFaultAndOperation(for fault: Fault, in situation: Situation) {
        var budget = RetryPolicy.default.makeBudget(startingAt: TestInstant.zero)
        var generator = SplitMix64(seed: 7)
        let decision = RetryPolicy.default.decide(
            fault.facts(in: situation),
            for: situation.safety,
            budget: &budget,
            now: .zero,
            throttle: RetryThrottle(),
            using: &generator
        )
        let expected = fault.expected[situation]
        #expect(expected.matches(decision), "expected \(expected), got \(decision)")
        #expect(budget.attempts.map(\.errorClass) == [fault.errorClass])
        #expect(budget.attempts.first?.delay == decision.delay)
    }
}
