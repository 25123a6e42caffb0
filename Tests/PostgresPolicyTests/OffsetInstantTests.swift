import PostgresPolicy
import Testing

@Suite("Offset instants")
struct OffsetInstantTests {
    @Test func advanceMeasureAndCompareByTheirOffsetsExactly() {
        let start = OffsetInstant.seconds(5)
        #expect(start.advanced(by: .milliseconds(1500)) == OffsetInstant(offset: .milliseconds(6500)))
        #expect(start.advanced(by: .seconds(-6)).offset == .seconds(-1))
        #expect(start.duration(to: .seconds(2)) == .seconds(-3))
        #expect(start.nanoseconds == 5_000_000_000)
        #expect(start.nanoseconds(to: .seconds(2)) == -3_000_000_000)
        #expect(OffsetInstant.seconds(1) < .seconds(2))
    }

    @Test func finerThanANanosecondIsCutTowardZero() {
        let start = OffsetInstant.seconds(5)
        #expect(start.advanced(by: .nanoseconds(7) / 4) == OffsetInstant(nanoseconds: 5_000_000_001))
        #expect(start.advanced(by: .nanoseconds(-7) / 4) == OffsetInstant(nanoseconds: 4_999_999_999))
        #expect(OffsetInstant(offset: .milliseconds(-1500)).nanoseconds == -1_500_000_000)
    }

    @Test func budgetAsLongAsADurationCanSayDoesNotTrap() {
        let deadline = Deadline(start: OffsetInstant.seconds(1), budget: .seconds(Int64.max))
        #expect(deadline.end.nanoseconds == .max)
        #expect(!deadline.hasPassed(at: .seconds(1_000_000_000)))
        // About 292 years, as far as the nanoseconds go: "never" for any operation.
        #expect(deadline.remaining(at: .seconds(1)) > .seconds(9_000_000_000))
        #expect(deadline.admits(.seconds(Int64.max), at: .seconds(2)) == false)
    }

    @Test func arithmeticPastTheRangeSaturatesInsteadOfTrapping() {
        let never = OffsetInstant(nanoseconds: .max)
        let dawn = OffsetInstant(nanoseconds: .min)
        #expect(never.advanced(by: .seconds(1)) == never)
        #expect(dawn.advanced(by: .seconds(-1)) == dawn)
        #expect(dawn.nanoseconds(to: never) == .max)
        #expect(never.nanoseconds(to: dawn) == .min)
        #expect(OffsetInstant(offset: .seconds(-Int64.max)) == dawn)
        #expect(never.advanced(by: .seconds(-1)) < never)
    }
}
