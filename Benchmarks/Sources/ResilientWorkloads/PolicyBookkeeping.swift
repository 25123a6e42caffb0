import BenchmarkSupport
import CoreMetrics
import PostgresPolicy
import ResilientPostgres

/// What `PostgresClient` does around every operation that succeeds at once, without the pool and the query.
///
/// Mirrors `PostgresClient.retrying` on its success path: read the policy from the configuration, declare the
/// operation's safety, read the clock and start the budget, count the attempt, read the clock around the pool
/// wait and record its duration, record the success in the shared retry throttle, and skip the attempt event (no
/// `onAttempt` is set). The metrics go to swift-metrics' no-op handler, as in an app that bootstrapped none.
/// The client reads its clock through an existential; this reads `ContinuousClock.now` directly.
enum PolicyBookkeeping {
    /// Runs the bookkeeping `iterations` times.
    static func run(configuration: PostgresClient.Configuration, iterations: Int) {
        let holder = ConfigurationHolder(configuration: configuration)
        let throttle = configuration.retryThrottle.map {
            RetryThrottle(maxTokens: $0.maxTokens, tokenRatio: $0.tokenRatio)
        }
        let attempts = Counter(label: "\(configuration.metricsLabelPrefix)_attempts_total")
        let acquireDuration = Timer(label: "\(configuration.metricsLabelPrefix)_pool_acquire_duration")
        for index in 0..<iterations {
            let safety = OperationSafety(isTransactionBlock: false, isReadOnly: index & 1 == 0, isIdempotent: false)
            let policy = holder.configuration.retryPolicy
            let budget = policy.makeBudget(startingAt: ContinuousClock.now)
            attempts.increment()
            let waitStart = ContinuousClock.now
            blackHole(budget.deadline.end)
            acquireDuration.recordNanoseconds(Stopwatch.nanoseconds(waitStart.duration(to: ContinuousClock.now)))
            blackHole(safety)
            throttle?.recordSuccess()
            if holder.configuration.onAttempt != nil { blackHole(budget.attempts.count) }
        }
    }

    /// Holds the configuration the way the client does: a `let` of a final class.
    private final class ConfigurationHolder {
        let configuration: PostgresClient.Configuration
        init(configuration: PostgresClient.Configuration) { self.configuration = configuration }
    }
}
