import PostgresPolicy
import PostgresTransport
import Testing

/// The transport's reading of the continuous clock in nanoseconds, against the clock's own instants.
@Suite("Offset instants of the continuous clock")
struct OffsetInstantClockTests {
    /// The direct reading is the continuous clock's instant: it falls between two readings of the clock taken around
    /// it, to the nanosecond. (On a machine that never suspended, `CLOCK_MONOTONIC` reads the same; that the
    /// continuous clock is `CLOCK_BOOTTIME` is the runtime's `swift_get_time`.)
    @Test func nowReadsTheContinuousClock() {
        for _ in 0..<1000 {
            let before = OffsetInstant(ContinuousClock.now)
            let now = OffsetInstant.now
            let after = OffsetInstant(ContinuousClock.now)
            #expect(before <= now && now <= after)
        }
    }

    /// Turning an instant of the clock into nanoseconds and back gives the same instant.
    @Test func instantsOfTheClockRoundTripExactly() {
        let instant = ContinuousClock.now
        #expect(ContinuousClock.Instant(OffsetInstant(instant)) == instant)
        let later = instant.advanced(by: .milliseconds(1500))
        #expect(OffsetInstant(instant).duration(to: OffsetInstant(later)) == .milliseconds(1500))
    }

    /// A deadline finer than a nanosecond becomes the next whole nanosecond, never an earlier one.
    @Test func aDeadlineBetweenNanosecondsRoundsUp() {
        let instant = ContinuousClock.now
        let halfLater = instant.advanced(by: .nanoseconds(1) / 2)
        #expect(OffsetInstant(halfLater) == OffsetInstant(instant).advanced(byNanoseconds: 1))
        #expect(ContinuousClock.Instant(OffsetInstant(halfLater)) >= halfLater)
        let halfEarlier = instant.advanced(by: .nanoseconds(-1) / 2)
        #expect(OffsetInstant(halfEarlier) == OffsetInstant(instant))
    }
}
