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
