import PostgresPolicy
import Testing

@Suite("Backoff")
struct BackoffTests {
    static let seeds: [UInt64] = Array(0..<300)
    static let backoffs: [Backoff] = [
        .default,
        .exponentialFullJitter(base: .milliseconds(50), multiplier: 3, cap: .seconds(2)),
        .exponential(base: .milliseconds(200), multiplier: 1.5, cap: .seconds(5), jitter: .none),
        .decorrelatedJitter(base: .milliseconds(100), cap: .seconds(3)),
        .azure,
        .constant(.seconds(1), jitter: .full),
    ]

    @Test(arguments: backoffs)
    func noDelayExceedsTheCap(backoff: Backoff) {
        for seed in Self.seeds {
            for delay in backoff.delays(using: SplitMix64(seed: seed)).prefix(40) {
                #expect(delay <= backoff.cap)
                #expect(delay >= .zero)
            }
        }
    }

    @Test func exponentialDelaysStayUnderBaseMultiplierAndGrowToIt() {
        let backoff = Backoff.exponentialFullJitter(base: .milliseconds(100), multiplier: 2, cap: .seconds(10))
        let expectedNominal: [Double] = [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 10, 10, 10]
        for (index, nominal) in expectedNominal.enumerated() {
            #expect(abs(backoff.nominalDelay(forRetry: index + 1).seconds - nominal) < 1e-9)
        }
        var sums = [Double](repeating: 0, count: expectedNominal.count)
        for seed in Self.seeds {
            for (index, delay) in backoff.delays(using: SplitMix64(seed: seed)).prefix(expectedNominal.count).enumerated() {
                #expect(delay <= backoff.nominalDelay(forRetry: index + 1))
                sums[index] += delay.seconds
            }
        }
        // Full jitter is uniform below the nominal delay, so the mean is close to half of it.
        for (index, nominal) in expectedNominal.enumerated() {
            let mean = sums[index] / Double(Self.seeds.count)
            #expect(abs(mean - nominal / 2) < nominal * 0.1, "retry \(index + 1): mean \(mean)")
        }
    }

    @Test func withoutJitterDelaysAreExactlyTheConfiguredGrowth() {
        let backoff = Backoff.exponential(base: .milliseconds(200), multiplier: 1.5, cap: .seconds(1), jitter: .none)
        let delays = Array(backoff.delays(using: SplitMix64(seed: 1)).prefix(6)).map(\.seconds)
        let expected = [0.2, 0.3, 0.45, 0.675, 1.0, 1.0]
        for (delay, nominal) in zip(delays, expected) {
            #expect(abs(delay - nominal) < 1e-9)
        }
    }

    /// Decorrelated delays lie between base and three times the previous delay.
    @Test func decorrelatedDelaysLieBetweenBaseAndThreeTimesThePreviousDelay() {
        let base = Duration.milliseconds(100)
        let cap = Duration.seconds(3)
        let backoff = Backoff.decorrelatedJitter(base: base, cap: cap)
        for seed in Self.seeds {
            var previous = base
            for delay in backoff.delays(using: SplitMix64(seed: seed)).prefix(30) {
                #expect(delay >= base)
                #expect(delay <= min(cap, previous * 3))
                previous = delay
            }
        }
    }

    @Test func azurePresetWaitsFrom5To60SecondsBeforeJitterAndNeverLess() {
        let nominal = (1...7).map { Backoff.azure.nominalDelay(forRetry: $0) }
        #expect(nominal == [5, 10, 20, 40, 60, 60, 60].map { Duration.seconds($0) })
        for seed in Self.seeds {
            for (index, delay) in Backoff.azure.delays(using: SplitMix64(seed: seed)).prefix(7).enumerated() {
                #expect(delay >= nominal[index])
                #expect(delay <= min(.seconds(60), nominal[index] * 1.2))
            }
        }
    }

    @Test func constantBackoffRepeatsItsDelay() {
        let delays = Array(Backoff.constant(.milliseconds(250)).delays(using: SplitMix64(seed: 3)).prefix(5))
        #expect(delays == Array(repeating: .milliseconds(250), count: 5))
    }

    @Test(arguments: backoffs.filter { $0.jitter != .none })
    func sameSeedGivesTheSameDelaysAnotherSeedGivesOthers(backoff: Backoff) {
        let first = Array(backoff.delays(using: SplitMix64(seed: 42)).prefix(20))
        let again = Array(backoff.delays(using: SplitMix64(seed: 42)).prefix(20))
        let other = Array(backoff.delays(using: SplitMix64(seed: 43)).prefix(20))
        #expect(first == again)
        #expect(first != other)
    }

    @Test func hugeRetryNumberStaysAtTheCapWithoutOverflowing() {
        var generator = SplitMix64(seed: 9)
        let backoff = Backoff.exponential(base: .seconds(1), multiplier: 10, cap: .seconds(30), jitter: .none)
        #expect(backoff.delay(forRetry: 10_000, previous: nil, using: &generator) == .seconds(30))
        #expect(backoff.nominalDelay(forRetry: Int.max) == .seconds(30))
    }
}

extension Backoff: CustomTestStringConvertible {
    public var testDescription: String {
        "cap \(cap), nominal \((1...4).map { nominalDelay(forRetry: $0) })"
    }
}
