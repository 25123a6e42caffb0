/// The rules that decide whether a failed attempt is retried, how, and after what wait.
///
/// A value: configure it once per client and share it. It never sleeps and never reads a clock; a thin async loop
/// asks `decide(_:for:budget:now:throttle:using:)` after every failure and carries the decision out. What is
/// retried: anything not sent; transaction blocks until their `COMMIT` is in flight; read-only and idempotent
/// operations after any transient failure. What is not: permanent failures, timeouts and cancellations, and writes
/// whose outcome is unknown (unless declared idempotent).
public struct RetryPolicy: Hashable, Sendable {
    /// The waits after most transient failures.
    public var backoff: Backoff
    /// The waits after the server or pooler ran out of capacity (53xxx, too many clients, pool limits): longer,
    /// and never near zero.
    public var resourceLimitBackoff: Backoff
    /// The time each operation has in all, from its start: pool wait, connects, waits and attempts.
    public var budget: Duration
    /// The most attempts per operation, counting the first, or `nil` for no limit but the deadline.
    public var maxAttempts: Int?
    /// Whether the first reconnect after a single lost connection happens at once, without a backoff wait.
    public var reconnectsAtOnceAfterFirstDrop: Bool

    /// Creates a policy.
    ///
    /// - Precondition: `maxAttempts`, if given, is at least 1.
    public init(
        backoff: Backoff = .default,
        resourceLimitBackoff: Backoff = .decorrelatedJitter(base: .seconds(1), cap: .seconds(30)),
        budget: Duration = .seconds(60),
        maxAttempts: Int? = nil,
        reconnectsAtOnceAfterFirstDrop: Bool = true
    ) {
        precondition(maxAttempts.map { $0 >= 1 } ?? true, "maxAttempts must be at least 1")
        self.backoff = backoff
        self.resourceLimitBackoff = resourceLimitBackoff
        self.budget = budget
        self.maxAttempts = maxAttempts
        self.reconnectsAtOnceAfterFirstDrop = reconnectsAtOnceAfterFirstDrop
    }

    /// The default: exponential backoff with full jitter, longer waits for resource limits, 60 s per operation.
    public static let `default` = RetryPolicy()

    /// Azure Database for PostgreSQL's published retry recipe (5 s, doubling, up to 60 s) for every wait.
    public static let azure = RetryPolicy(backoff: .azure, resourceLimitBackoff: .azure)

    /// Starts the budget of one operation at `now`, read from the clock the caller injects.
    @inlinable
    package func makeBudget<Instant: InstantProtocol>(startingAt now: Instant) -> RetryBudget<Instant>
    where Instant.Duration == Duration {
        RetryBudget(start: now, budget: budget, maxAttempts: maxAttempts)
    }
}
