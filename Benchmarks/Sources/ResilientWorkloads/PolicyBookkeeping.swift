import BenchmarkSupport
import CoreMetrics
import Glibc
import PostgresPolicy
import ResilientPostgres

/// What `PostgresClient` does around every operation that succeeds at once, without the pool and the query.
///
/// Mirrors `PostgresClient.retrying` on its success path: read the policy from the configuration, declare the
/// operation's safety, read the clock and start the operation's `RetryLoop`, whose deadline the pool and the
/// statement take as it is, count the attempt, read the clock after the pool wait (which started with the operation)
/// and record its duration, tell the loop of the success (the shared retry throttle gets its token), and skip the
/// attempt event (no `onAttempt` is set). The metrics go to swift-metrics' no-op handler, as in an app that
/// bootstrapped none. The client reads its clock through an existential; this reads the system's clock directly, in
/// nanoseconds, as the client's production clock does.
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
            var loop = RetryLoop(
                policy: holder.configuration.retryPolicy, safety: safety,
                startingAt: now(), throttle: throttle
            )
            blackHole(loop.deadline.end)
            attempts.increment()
            let acquired = now()
            acquireDuration.recordNanoseconds(Stopwatch.nanoseconds(loop.deadline.start.duration(to: acquired)))
            blackHole(loop.next(after: .succeeded, at: acquired, jitter: SplitMix64(seed: 0)))
            if holder.configuration.onAttempt != nil { blackHole(loop.attempt) }
        }
    }

    /// The continuous clock's now in nanoseconds from its epoch, read as the client reads it on Linux (the
    /// transport's `OffsetInstant.now`, which is the package's own).
    private static func now() -> OffsetInstant {
        var time = timespec()
        _ = clock_gettime(CLOCK_BOOTTIME, &time)
        return OffsetInstant(nanoseconds: Int64(time.tv_sec) &* 1_000_000_000 &+ Int64(time.tv_nsec))
    }

    /// Holds the configuration the way the client does: a `let` of a final class.
    private final class ConfigurationHolder {
        let configuration: PostgresClient.Configuration
        init(configuration: PostgresClient.Configuration) { self.configuration = configuration }
    }
}
