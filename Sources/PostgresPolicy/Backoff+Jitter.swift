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
