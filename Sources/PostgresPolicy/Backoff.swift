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
    /// - Parameters:
    ///   - retry: which retry, from 1.
    ///   - previous: the delay before the previous retry; only decorrelated jitter uses it.
    ///   - generator: the random source of the jitter.
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

extension Backoff {
    /// How a nominal delay is randomized so that clients which failed together do not retry together.
    public struct Jitter: Hashable, Sendable {
        enum Value: Hashable, Sendable {
            case none
            case full
            case added(fraction: Double)
        }

        let value: Value

        private init(_ value: Value) { self.value = value }

        /// The nominal delay exactly.
        public static let none = Jitter(.none)
        /// Uniform between zero and the nominal delay.
        public static let full = Jitter(.full)

        /// The nominal delay plus up to `fraction` of it, never past the cap: never shorter than nominal.
        ///
        /// - Precondition: `fraction` is not negative.
        public static func added(upTo fraction: Double) -> Jitter {
            precondition(fraction >= 0, "fraction must not be negative")
            return Jitter(.added(fraction: fraction))
        }

        func apply(to nominal: Duration, cap: Duration?, using generator: inout some RandomNumberGenerator) -> Duration {
            switch value {
            case .none:
                return nominal
            case .full:
                return Backoff.random(upTo: nominal, using: &generator)
            case .added:
                let upper = maximum(of: nominal, cap: cap)
                return nominal + Backoff.random(upTo: max(upper - nominal, .zero), using: &generator)
            }
        }

        func maximum(of nominal: Duration, cap: Duration?) -> Duration {
            switch value {
            case .none, .full:
                return nominal
            case .added(let fraction):
                let upper = Backoff.duration(nanoseconds: Backoff.nanoseconds(nominal) * (1 + fraction))
                guard let cap else { return upper }
                return max(nominal, min(upper, cap))
            }
        }
    }
}

extension Backoff {
    /// The delays before retry 1, 2, 3 ..., without end; take as many as needed.
    ///
    /// The sequence owns a copy of `generator`, so iterating it twice gives the same delays.
    public func delays<Generator: RandomNumberGenerator & Sendable>(using generator: Generator) -> Delays<Generator> {
        Delays(backoff: self, generator: generator)
    }

    /// An endless sequence of the delays a ``Backoff`` produces, for one seed.
    public struct Delays<Generator: RandomNumberGenerator & Sendable>: Sequence, Sendable {
        let backoff: Backoff
        let generator: Generator

        /// Returns an iterator starting from the first retry.
        public func makeIterator() -> Iterator {
            Iterator(backoff: backoff, generator: generator)
        }

        /// Produces the next delay on each call; never returns `nil`.
        public struct Iterator: IteratorProtocol, Sendable {
            let backoff: Backoff
            var generator: Generator
            var retry = 0
            var previous: Duration?

            /// The delay before the next retry.
            public mutating func next() -> Duration? {
                retry += 1
                let delay = backoff.delay(forRetry: retry, previous: previous, using: &generator)
                previous = delay
                return delay
            }
        }
    }
}

// Delays are computed in whole nanoseconds: exact to draw from, and far finer than any sleep.
extension Backoff {
    /// The largest delay computed, about 146 years, so that conversions never overflow.
    static let maximumNanoseconds = Double(Int64.max / 2)

    static func nanoseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1e9 + Double(attoseconds) / 1e9
    }

    static func duration(nanoseconds: Double) -> Duration {
        guard nanoseconds.isFinite else { return nanoseconds > 0 ? .nanoseconds(Int64(maximumNanoseconds)) : .zero }
        return .nanoseconds(Int64(min(max(nanoseconds, 0), maximumNanoseconds).rounded(.down)))
    }

    static func triple(_ duration: Duration) -> Duration {
        Self.duration(nanoseconds: nanoseconds(duration) * 3)
    }

    /// A uniformly random duration in `0 ... upper`, in whole nanoseconds.
    static func random(upTo upper: Duration, using generator: inout some RandomNumberGenerator) -> Duration {
        let limit = UInt64(nanoseconds(upper).rounded(.down))
        guard limit > 0 else { return .zero }
        return .nanoseconds(Int64(UInt64.random(in: 0...limit, using: &generator)))
    }

    /// `base` raised to a whole, non-negative `exponent`, by squaring; overflows to infinity, never traps.
    static func pow(_ base: Double, _ exponent: Int) -> Double {
        var result = 1.0
        var factor = base
        var remaining = max(exponent, 0)
        while remaining > 0 {
            if remaining & 1 == 1 { result *= factor }
            factor *= factor
            remaining >>= 1
        }
        return result
    }
}
