import PostgresPolicy

// The client keeps the instants of an operation as `OffsetInstant`s from one reading of the continuous clock: values
// of known size, where each `ContinuousClock.Instant` an async function holds takes an allocation of its own. It
// turns them back into `ContinuousClock.Instant`s, exactly, only for the pool and the connection.

/// The zero of every `OffsetInstant` the client makes.
private let zero = ContinuousClock.now

extension OffsetInstant {
    /// `instant`, as its offset from the client's zero.
    init(_ instant: ContinuousClock.Instant) {
        self.init(offset: zero.duration(to: instant))
    }
}

extension ContinuousClock.Instant {
    /// The continuous clock's instant for `instant`.
    init(_ instant: OffsetInstant) {
        self = zero.advanced(by: instant.offset)
    }
}

extension ClientClock {
    /// The current instant, as its offset from the client's zero.
    ///
    /// Out of line, so that the clock's own instant stays out of the async functions that ask.
    @inline(never)
    var offsetNow: OffsetInstant { OffsetInstant(now) }
}
