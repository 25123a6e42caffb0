import PostgresPolicy
import Testing

@Suite("Host names that never resolved")
struct HostNotFoundTests {
    static let notFound = #"could not translate host name "db.exmaple.com" to address: Name or service not known"#
    static let temporary = #"could not translate host name "db.example.com" to address: Temporary failure in name resolution"#

    static func decide(_ facts: FailureFacts) -> RetryDecision {
        let policy = RetryPolicy.default
        var budget = policy.makeBudget(startingAt: TestInstant.zero)
        var generator = SplitMix64(seed: 5)
        return policy.decide(facts, for: .autocommitWrite, budget: &budget, now: .zero, using: &generator)
    }

    /// A name that does not exist and never resolved for this client fails at once, as host not found.
    @Test func nameThatDoesNotExistAndNeverResolvedForThisClientFailsAtOnce() {
        let facts = FailureFacts(message: Self.notFound, phase: .connecting, isConnectionUsable: false,
                                 hostNameNeverResolved: true)
        #expect(facts.errorClass == .hostNotFound)
        #expect(!facts.errorClass.isTransient)
        #expect(!facts.errorClass.spendsRetryToken)
        #expect(facts.errorClass.name == "host not found")
        #expect(facts.errorClass.advice.contains("host name"))
        #expect(Self.decide(facts) == .fail(.permanent))
    }

    /// Only that: a name that resolved before, a DNS timeout or server failure, and a lost session are retried.
    @Test func onlyANameThatResolvedBeforeATimeoutOrALostSessionIsRetried() {
        // The name resolved for this client before: DNS changes during a failover, but the name keeps existing.
        let resolvedBefore = FailureFacts(message: Self.notFound, phase: .connecting, isConnectionUsable: false,
                                          hostNameNeverResolved: false)
        #expect(resolvedBefore.errorClass == .unreachable)
        guard case .backOff = Self.decide(resolvedBefore) else {
            Issue.record("a name that resolved before is backed off and retried")
            return
        }
        let temporary = FailureFacts(message: Self.temporary, phase: .connecting, isConnectionUsable: false)
        #expect(temporary.errorClass == .unreachable)
        // The fact speaks only of connecting.
        let lost = FailureFacts(message: "server closed the connection unexpectedly", phase: .sent,
                                isConnectionUsable: false, hostNameNeverResolved: true)
        #expect(lost.errorClass == .serverWentAway)
    }
}
