/// An instant given by its offset from an arbitrary zero, such as a fixed reading of the client's clock.
///
/// A value of known size, so an async function keeps it in its own frame: a `ContinuousClock.Instant`, whose layout
/// the standard library keeps to itself, takes an allocation of its own in every async function that holds one.
/// Moving between the two is one 128-bit addition or subtraction (`Duration` counts attoseconds).
public struct OffsetInstant: InstantProtocol, Hashable, Sendable, CustomStringConvertible {
    /// The time since the zero.
    public var offset: Duration

    /// The instant `offset` after the zero.
    @inlinable
    public init(offset: Duration) {
        self.offset = offset
    }

    /// The instant `duration` later (earlier when negative).
    @inlinable
    public func advanced(by duration: Duration) -> OffsetInstant {
        OffsetInstant(offset: offset + duration)
    }

    /// The time from this instant to `other`.
    @inlinable
    public func duration(to other: OffsetInstant) -> Duration {
        other.offset - offset
    }

    @inlinable
    public static func < (lhs: OffsetInstant, rhs: OffsetInstant) -> Bool {
        lhs.offset < rhs.offset
    }

    /// The offset, for example `zero + 1.5 seconds`.
    public var description: String { "zero + \(offset)" }
}
