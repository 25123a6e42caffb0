import PostgresPolicy

// Instants kept as `OffsetInstant`s from one reading of the continuous clock: values of known size, where each
// `ContinuousClock.Instant` an async function holds takes an allocation of its own, and a struct holding one is
// copied, stored and destroyed through value witnesses. They turn back into `ContinuousClock.Instant`s, exactly, where
// a clock's instant is needed. One zero for the process, so that the transport and the client share their instants.

/// The zero of every `OffsetInstant` made from the continuous clock.
private let zero = ContinuousClock.now

extension OffsetInstant {
    /// `instant`, as its offset from the process's zero.
    package init(_ instant: ContinuousClock.Instant) {
        self.init(offset: zero.duration(to: instant))
    }
}

extension ContinuousClock.Instant {
    /// The continuous clock's instant for `instant`.
    package init(_ instant: OffsetInstant) {
        self = zero.advanced(by: instant.offset)
    }
}
