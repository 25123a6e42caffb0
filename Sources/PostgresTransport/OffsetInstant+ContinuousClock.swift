#if canImport(Glibc)
import Glibc
#endif
import PostgresPolicy

// Instants kept as `OffsetInstant`s, nanoseconds from the continuous clock's epoch: values of known size, where each
// `ContinuousClock.Instant` an async function holds takes an allocation of its own, and a struct holding one is
// copied, stored and destroyed through value witnesses. They turn back into `ContinuousClock.Instant`s, exactly, where
// a clock's instant is needed. An instant of the clock becomes one to the nanosecond, rounded up, so that a deadline
// is never earlier as an `OffsetInstant` (the clock's own readings are whole nanoseconds, and stay as they are); one
// more than about 292 years from the epoch saturates. One zero for every process, so that the transport and the
// client share their instants.

/// The zero of every `OffsetInstant` made from the continuous clock: the clock's epoch.
private let epoch = ContinuousClock().systemEpoch

extension OffsetInstant {
    /// `instant`, as its offset from the continuous clock's epoch, rounded up to the next whole nanosecond.
    package init(_ instant: ContinuousClock.Instant) {
        let (nanoseconds, remainder) = epoch.duration(to: instant).attoseconds.quotientAndRemainder(
            dividingBy: 1_000_000_000
        )
        self.init(nanoseconds: Int64(clamping: remainder > 0 ? nanoseconds + 1 : nanoseconds))
    }

    /// The continuous clock's now, as its offset from the clock's epoch.
    ///
    /// On Linux read as the clock reads itself (`CLOCK_BOOTTIME`), in nanoseconds, without the 128-bit arithmetic of
    /// making a `ContinuousClock.Instant` and measuring it from the epoch; the same instant to the nanosecond (see
    /// the transport's tests, and the runtime's `swift_get_time`, which reads `CLOCK_BOOTTIME` for the continuous
    /// clock). Elsewhere through the clock.
    package static var now: OffsetInstant {
        #if os(Linux)
        var time = timespec()
        // Cannot fail: the clock exists and `time` is writable.
        _ = clock_gettime(CLOCK_BOOTTIME, &time)
        return OffsetInstant(nanoseconds: Int64(time.tv_sec) &* 1_000_000_000 &+ Int64(time.tv_nsec))
        #else
        return OffsetInstant(ContinuousClock.now)
        #endif
    }
}

extension ContinuousClock.Instant {
    /// The continuous clock's instant for `instant`.
    package init(_ instant: OffsetInstant) {
        self = epoch.advanced(by: instant.offset)
    }
}
