import PostgresPolicy
import Testing

@Suite("Offset instants")
struct OffsetInstantTests {
    @Test func advanceMeasureAndCompareByTheirOffsetsExactly() {
        let start = OffsetInstant.seconds(5)
        #expect(start.advanced(by: .milliseconds(1500)) == OffsetInstant(offset: .milliseconds(6500)))
        #expect(start.advanced(by: .seconds(-6)).offset == .seconds(-1))
        #expect(start.duration(to: .seconds(2)) == .seconds(-3))
        // Finer than a nanosecond is kept: the offset is a Duration.
        #expect(start.advanced(by: .nanoseconds(1) / 4).duration(to: start) == .nanoseconds(1) / -4)
        #expect(OffsetInstant.seconds(1) < .seconds(2))
    }

    @Test func budgetAsLongAsADurationCanSayDoesNotTrap() {
        let deadline = Deadline(start: OffsetInstant.seconds(1), budget: .seconds(Int64.max))
        #expect(!deadline.hasPassed(at: .seconds(1_000_000_000_000)))
        #expect(deadline.remaining(at: .seconds(1)) == .seconds(Int64.max))
    }
}
