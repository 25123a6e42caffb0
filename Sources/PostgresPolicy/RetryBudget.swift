/// What one operation may still spend on retries: its deadline, an optional attempt limit, and its history.
///
/// Create one per operation with `RetryPolicy.makeBudget(startingAt:)` and pass it to every
/// `RetryPolicy.decide(_:for:budget:now:throttle:using:)` call; the policy records each failed attempt here and
/// ends the operation when the next wait would cross the deadline. Creating one does not allocate.
public struct RetryBudget<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// The operation's deadline.
    public let deadline: Deadline<Instant>
    /// The most attempts allowed, counting the first, or `nil` for no limit but the deadline.
    public let maxAttempts: Int?
    /// Every failed attempt so far, oldest first.
    public private(set) var attempts: [RetryAttempt] = []
    /// How many waits came from the backoff, which sets the next one's size.
    @usableFromInline private(set) var backoffRetries = 0
    /// The last wait the backoff produced.
    @usableFromInline private(set) var previousDelay: Duration?

    /// Creates a budget of `budget` from `start`, allowing at most `maxAttempts` attempts.
    ///
    /// - Precondition: `maxAttempts`, if given, is at least 1.
    @inlinable
    public init(start: Instant, budget: Duration = .seconds(60), maxAttempts: Int? = nil) {
        precondition(maxAttempts.map { $0 >= 1 } ?? true, "maxAttempts must be at least 1")
        self.deadline = Deadline(start: start, budget: budget)
        self.maxAttempts = maxAttempts
    }

    /// The time left at `now`, to bound a pool wait or a connect; zero once the deadline has passed.
    @inlinable
    public func remaining(at now: Instant) -> Duration {
        deadline.remaining(at: now)
    }

    /// The most recent failed attempt.
    public var lastAttempt: RetryAttempt? { attempts.last }

    /// Whether every attempt the limit allows has been made.
    var attemptsExhausted: Bool {
        guard let maxAttempts else { return false }
        return attempts.count >= maxAttempts
    }

    mutating func record(_ failure: FailureFacts, as errorClass: ErrorClass, at now: Instant, delay: Duration?) {
        attempts.append(
            RetryAttempt(
                number: attempts.count + 1,
                errorClass: errorClass,
                sqlState: failure.sqlState,
                phase: failure.phase,
                elapsed: deadline.elapsed(at: now),
                delay: delay
            )
        )
    }

    mutating func recordBackoff(_ delay: Duration) {
        backoffRetries += 1
        previousDelay = delay
    }
}
