/// The instant an operation must be finished by, fixed when it starts.
///
/// One deadline covers everything an operation does: waiting for a pool slot, connecting across all hosts, backoff
/// sleeps and attempts. It never reads a clock: callers pass `now` from the clock they inject.
public struct Deadline<Instant: InstantProtocol>: Hashable, Sendable where Instant.Duration == Duration {
    /// When the operation started.
    public let start: Instant
    /// When the operation must be finished.
    public let end: Instant

    /// Creates a deadline `budget` after `start`.
    @inlinable
    public init(start: Instant, budget: Duration) {
        self.start = start
        self.end = start.advanced(by: max(budget, .zero))
    }

    /// The whole time the operation was given.
    public var budget: Duration { start.duration(to: end) }

    /// The time left at `now`; zero once the deadline has passed.
    @inlinable
    public func remaining(at now: Instant) -> Duration {
        max(now.duration(to: end), .zero)
    }

    /// The time since the operation started.
    @inlinable
    public func elapsed(at now: Instant) -> Duration {
        start.duration(to: now)
    }

    /// Whether the deadline has been reached at `now`.
    @inlinable
    public func hasPassed(at now: Instant) -> Bool {
        now >= end
    }

    /// Whether sleeping `delay` from `now` ends before the deadline, leaving time for another attempt.
    @inlinable
    public func admits(_ delay: Duration, at now: Instant) -> Bool {
        now.advanced(by: delay) < end
    }
}
