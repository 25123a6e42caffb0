/// An instant for the pool's state machine: the time since an origin its driver fixed on the client's clock.
///
/// `ContinuousClock.Instant` is resilient (its layout is known only at run time), so a value holding one is copied
/// and compared through the runtime; the machine's sessions, waiters and timers hold this fixed-layout value
/// instead, and the driver converts at the edge.
package struct PoolInstant: InstantProtocol {
    package var sinceOrigin: Duration

    package init(sinceOrigin: Duration) {
        self.sinceOrigin = sinceOrigin
    }

    package func advanced(by duration: Duration) -> PoolInstant {
        PoolInstant(sinceOrigin: sinceOrigin + duration)
    }

    package func duration(to other: PoolInstant) -> Duration {
        other.sinceOrigin - sinceOrigin
    }

    package static func < (lhs: PoolInstant, rhs: PoolInstant) -> Bool {
        lhs.sinceOrigin < rhs.sinceOrigin
    }
}
