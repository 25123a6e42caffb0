import PostgresPolicy
internal import PostgresTransport

// The client keeps the instants of an operation as `OffsetInstant`s (see `OffsetInstant.init(_:)` in the transport),
// and turns them back into `ContinuousClock.Instant`s only for the pool and the connection.

extension ClientClock {
    /// The current instant, as its offset from the process's zero.
    ///
    /// Out of line, so that the clock's own instant stays out of the async functions that ask.
    @inline(never)
    var offsetNow: OffsetInstant { OffsetInstant(now) }
}
