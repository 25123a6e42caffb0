/// An instant given by its offset from an arbitrary zero, such as the epoch of the client's clock, in whole
/// nanoseconds.
///
/// A value of known size, so an async function keeps it in its own frame: a `ContinuousClock.Instant`, whose layout
/// the standard library keeps to itself, takes an allocation of its own in every async function that holds one.
/// And an integer: `Duration` counts attoseconds in 128 bits, and on this platform its operators are calls into the
/// standard library, where the nanoseconds here are added and compared in the caller's own instructions.
///
/// An offset of more than about 292 years either way saturates, as does arithmetic that would go past it: an
/// instant that far off is "never" (a budget as long as a `Duration` can say) rather than a trap. Durations finer
/// than a nanosecond are cut to whole nanoseconds, toward zero.
public struct OffsetInstant: InstantProtocol, Hashable, Sendable, CustomStringConvertible {
    /// The time since the zero, in nanoseconds.
    public var nanoseconds: Int64

    /// The instant `nanoseconds` after the zero.
    @inlinable
    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    /// The instant `offset` after the zero, to the nanosecond.
    @inlinable
    public init(offset: Duration) {
        self.nanoseconds = Self.nanoseconds(in: offset)
    }

    /// The time since the zero.
    @inlinable
    public var offset: Duration { .nanoseconds(nanoseconds) }

    /// The instant `duration` later (earlier when negative).
    @inlinable
    public func advanced(by duration: Duration) -> OffsetInstant {
        advanced(byNanoseconds: Self.nanoseconds(in: duration))
    }

    /// The instant `nanoseconds` later (earlier when negative).
    @inlinable
    public func advanced(byNanoseconds nanoseconds: Int64) -> OffsetInstant {
        let (sum, overflow) = self.nanoseconds.addingReportingOverflow(nanoseconds)
        return OffsetInstant(nanoseconds: overflow ? (nanoseconds < 0 ? .min : .max) : sum)
    }

    /// The time from this instant to `other`.
    @inlinable
    public func duration(to other: OffsetInstant) -> Duration {
        .nanoseconds(nanoseconds(to: other))
    }

    /// The time from this instant to `other`, in nanoseconds.
    @inlinable
    public func nanoseconds(to other: OffsetInstant) -> Int64 {
        let (difference, overflow) = other.nanoseconds.subtractingReportingOverflow(nanoseconds)
        return overflow ? (other.nanoseconds < nanoseconds ? .min : .max) : difference
    }

    @inlinable
    public static func < (lhs: OffsetInstant, rhs: OffsetInstant) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    /// `duration` in whole nanoseconds, cut toward zero; saturated when it does not fit.
    ///
    /// One 128-bit division of its attoseconds by a constant: `Duration.components` costs several times as much.
    @inlinable
    public static func nanoseconds(in duration: Duration) -> Int64 {
        Int64(clamping: duration.attoseconds / 1_000_000_000)
    }

    /// The offset, for example `zero + 1.5 seconds`.
    public var description: String { "zero + \(offset)" }
}
