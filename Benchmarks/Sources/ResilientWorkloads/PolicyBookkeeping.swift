import BenchmarkSupport
import PostgresPolicy
import ResilientPostgres

/// What `PostgresClient` does for the retry policy on every operation that succeeds at once, without the pool and
/// the query: read the policy from the configuration, declare the operation's safety, read the clock, start the
/// budget, take its deadline (which bounds the pool wait), and record the success in the shared retry throttle.
/// Mirrors `PostgresClient.withRetries` on its success path.
enum PolicyBookkeeping {
    /// Runs the bookkeeping `iterations` times.
    static func run(configuration: PostgresClient.Configuration, iterations: Int) {
        let holder = ConfigurationHolder(configuration: configuration)
        let throttle = RetryThrottle()
        for index in 0..<iterations {
            let safety = OperationSafety(isTransactionBlock: false, isReadOnly: index & 1 == 0, isIdempotent: false)
            let policy = holder.configuration.retryPolicy
            let budget = policy.makeBudget(startingAt: ContinuousClock.now)
            blackHole(budget.deadline.end)
            blackHole(safety)
            throttle.recordSuccess()
        }
    }

    /// Holds the configuration the way the client does: a `let` of a final class.
    private final class ConfigurationHolder {
        let configuration: PostgresClient.Configuration
        init(configuration: PostgresClient.Configuration) { self.configuration = configuration }
    }
}
