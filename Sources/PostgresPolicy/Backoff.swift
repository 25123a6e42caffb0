/// How long to wait before each retry: a growth rule, a cap, and jitter drawn from an injected random source.
///
/// Computes delays only; it never sleeps. The default, ``exponentialFullJitter(base:multiplier:cap:)``, spreads
/// clients that failed together across the whole interval so they do not return together. No delay exceeds the
/// cap, and the same generator state gives the same delays.
public struct Backoff: Hashable, Sendable {
    enum Strategy: Hashable, Sendable {
        case exponential(base: Duration, multiplier: Double, cap: Duration)
        case decorrelated(base: Duration, cap: Duration)
        case constant(Duration)
    }

    let strategy: Strategy
    /// How the nominal delay is randomized.
    public let jitter: Jitter

    private init(_ strategy: Strategy, jitter: Jitter) {
        self.strategy = strategy
        self.jitter = jitter
    }

    /// Exponential growth, `base × multiplier^(n−1)` capped at `cap`, randomized by `jitter`.
    ///
    /// - Precondition: `base` is not negative and `multiplier` is at least 1.
    public static func exponential(base: Duration, multiplier: Double = 2, cap: Duration, jitter: Jitter) -> Backoff {
        precondition(base >= .zero, "base must not be negative")
        precondition(multiplier >= 1, "multiplier must be at least 1")
        return Backoff(.exponential(base: base, multiplier: multiplier, cap: max(cap, .zero)), jitter: jitter)
    }

    /// Exponential growth with full jitter: the n-th delay is uniform in `0 ... min(cap, base × multiplier^(n−1))`.
    public static func exponentialFullJitter(
        base: Duration = .milliseconds(100),
        multiplier: Double = 2,
        cap: Duration = .seconds(10)
    ) -> Backoff {
        .exponential(base: base, multiplier: multiplier, cap: cap, jitter: .full)
    }

    /// Decorrelated jitter: each delay is uniform in `base ... min(cap, 3 × previous delay)`.
    ///
    /// Never shorter than `base`, so it suits failures that need a real pause, such as a full connection table.
    public static func decorrelatedJitter(base: Duration = .milliseconds(100), cap: Duration = .seconds(10)) -> Backoff {
        precondition(base >= .zero, "base must not be negative")
        return Backoff(.decorrelated(base: base, cap: max(cap, .zero)), jitter: .full)
    }

    /// The same delay every time, randomized by `jitter`.
    public static func constant(_ delay: Duration, jitter: Jitter = .none) -> Backoff {
        precondition(delay >= .zero, "delay must not be negative")
        return Backoff(.constant(delay), jitter: jitter)
    }

    /// The default: exponential with full jitter from 100 ms, doubling, capped at 10 s.
    public static let `default` = exponentialFullJitter()

    /// Azure Database for PostgreSQL's published recipe: wait 5 s, then double each time, up to 60 s.
    ///
    /// Nominal delays are 5, 10, 20, 40, 60, 60 ... seconds; jitter adds up to a fifth but never passes 60 s, so no
    /// wait is shorter than the recipe asks.
    public static let azure = exponential(base: .seconds(5), multiplier: 2, cap: .seconds(60), jitter: .added(upTo: 0.2))

    /// The longest delay this backoff can produce.
    public var cap: Duration {
        switch strategy {
        case .exponential(_, _, let cap), .decorrelated(_, let cap): cap
        case .constant(let delay): jitter.maximum(of: delay, cap: nil)
        }
    }

    /// The delay before the `retry`-th retry (1-based) before jitter; for decorrelated jitter, its upper bound.
    public func nominalDelay(forRetry retry: Int) -> Duration {
        let steps = max(retry, 1) - 1
        switch strategy {
        case .exponential(let base, let multiplier, let cap):
            return Self.duration(nanoseconds: min(Self.nanoseconds(base) * Self.pow(multiplier, steps), Self.nanoseconds(cap)))
        case .decorrelated(let base, let cap):
            return Self.duration(nanoseconds: min(Self.nanoseconds(base) * Self.pow(3, steps), Self.nanoseconds(cap)))
        case .constant(let delay):
            return delay
        }
    }

    /// The delay before the `retry`-th retry (1-based), drawing jitter from `generator`.
    ///
    /// - Parameter previous: the delay before the previous retry; only decorrelated jitter uses it.
    public func delay(
        forRetry retry: Int,
        previous: Duration?,
        using generator: inout some RandomNumberGenerator
    ) -> Duration {
        switch strategy {
        case .exponential(_, _, let cap):
            return jitter.apply(to: nominalDelay(forRetry: retry), cap: cap, using: &generator)
        case .decorrelated(let base, let cap):
            let upper = min(cap, max(base, Self.triple(previous ?? base)))
            let lower = min(base, upper)
            return lower + Self.random(upTo: upper - lower, using: &generator)
        case .constant(let delay):
            return jitter.apply(to: delay, cap: nil, using: &generator)
        }
    }
}
