// Delays are computed in whole nanoseconds: exact to draw from, and far finer than any sleep.
extension Backoff {
    /// The largest delay computed, about 292 years, so that conversions never overflow.
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
