import Foundation
import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

@Suite("Date coding", .capturingLogs)
struct DateCodingTests {
    /// Seconds from 1970-01-01 to 2000-01-01, PostgreSQL's epoch (30 years, 7 of them leap).
    static let postgresEpoch: Int64 = 946_684_800

    /// Microseconds since 1970 of a decoded date, rounded.
    static func unixMicros(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    @Test(arguments: [
        // Unix seconds and microseconds: the Moon landing, the Unix epoch, a leap day, before 1900, 2200.
        (Int64(-14_182_940), Int64(123_456)), (0, 0), (951_782_400, 1), (-2_208_988_800, 999_999), (7_258_118_400, 5),
        (-62_135_596_800, 0),  // 0001-01-01
    ])
    func binaryTimestampsDecodeWithMicrosecondPrecision(seconds: Int64, micros: Int64) throws {
        let payload = bigEndian((seconds - Self.postgresEpoch) * 1_000_000 + micros)
        for type in [PostgresDataType.timestamptz, .timestamp] {
            let date = try decode(Date.self, payload, type, .binary)
            #expect(Self.unixMicros(date) == seconds * 1_000_000 + micros)
        }
    }

    /// Text values and their instants in Unix microseconds, worked out by hand.
    static let textCases: [(String, PostgresDataType, Int64)] = [
        ("1969-07-20 20:17:40.123456+00", .timestamptz, -14_182_939_876_544),
        ("1969-07-21 01:47:40.5+05:30", .timestamptz, -14_182_939_500_000),
        ("1900-01-01 00:19:32+00:19:32", .timestamptz, -2_208_988_800_000_000),
        ("2000-02-29 23:59:59.999999-08", .timestamptz, 951_897_599_999_999),
        ("1969-07-20 20:17:40", .timestamp, -14_182_940_000_000),
        ("1969-07-20", .date, -14_256_000_000_000),
        ("0001-01-01 00:00:00+00", .timestamptz, -62_135_596_800_000_000),
        ("0001-12-31 00:00:00+00 BC", .timestamptz, -62_135_683_200_000_000),
        ("12345-01-01", .date, 327_403_382_400_000_000),
    ]

    @Test(arguments: textCases)
    func textTimestampsDecodeWithOffsetsFractionsAndBC(text: String, type: PostgresDataType, unixMicros: Int64) throws {
        #expect(Self.unixMicros(try decodeText(Date.self, text, type)) == unixMicros)
    }

    @Test(arguments: [(Int32(0), Int64(946_684_800)), (-11_157, -17_280_000)])
    func binaryDatesDecodeAsMidnightUTC(days: Int32, unixSeconds: Int64) throws {
        #expect(Self.unixMicros(try decode(Date.self, bigEndian(days), .date, .binary)) == unixSeconds * 1_000_000)
    }

    @Test func infinityIsAClearErrorInBothFormats() {
        let cases: [([UInt8], PostgresDataType, ValueFormat)] = [
            (bigEndian(Int64.max), .timestamptz, .binary), (bigEndian(Int64.min), .timestamp, .binary),
            (bigEndian(Int32.max), .date, .binary), (Array("infinity".utf8), .timestamptz, .text),
            (Array("-infinity".utf8), .date, .text),
        ]
        for (bytes, type, format) in cases {
            let error = decodingError { _ = try decode(Date.self, bytes, type, format) }
            #expect(error?.code == .unrepresentable)
            #expect(error?.description.contains("infinity") == true)
        }
    }

    @Test(arguments: [
        "Sun Jul 20 20:17:40 1969 UTC", "07/20/1969 20:17:40 UTC", "1969-07-20 20:17", "1969-13-20 00:00:00+00",
        "1969-07-20 20:17:40.1234567+00", "1969-07-20 20:17:40+00 junk",
    ])
    func otherDateStylesAndJunkAreMalformed(text: String) {
        #expect(decodingError { _ = try decodeText(Date.self, text, .timestamptz) }?.code == .malformedValue)
    }

    @Test(arguments: [
        (Int64(-14_182_940), Int64(123_456)), (0, 1), (946_684_800, 0), (-2_208_988_800, 999_999), (4_102_444_800, 7),
    ])
    func datesEncodeAsMicrosecondsSince2000UTC(seconds: Int64, micros: Int64) throws {
        let date = Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
        #expect(try encoded(date) == bigEndian((seconds - Self.postgresEpoch) * 1_000_000 + micros))
    }

    @Test func dateBeyondPostgreSQLsRangeEncodesAsInfinity() throws {
        #expect(try encoded(Date(timeIntervalSince1970: 1e300)) == bigEndian(Int64.max))
        #expect(try encoded(Date(timeIntervalSince1970: -1e300)) == bigEndian(Int64.min))
    }
}
