import Foundation
import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

@Suite("Decimal coding", .capturingLogs)
struct DecimalCodingTests {
    /// A binary numeric payload: digit count, weight, sign, display scale, base-10000 digits.
    static func numeric(weight: Int16, sign: UInt16 = 0, scale: UInt16, _ digits: [Int16]) -> [UInt8] {
        bigEndian(Int16(digits.count)) + bigEndian(weight) + bigEndian(sign) + bigEndian(scale)
            + digits.flatMap(bigEndian)
    }

    static let binaryCases: [([UInt8], String)] = [
        (numeric(weight: 1, scale: 4, [1, 2345, 6789]), "12345.6789"),
        (numeric(weight: -1, sign: 0x4000, scale: 3, [10]), "-0.001"),
        (numeric(weight: -2, scale: 8, [1]), "0.00000001"),
        (numeric(weight: 5, scale: 0, [1]), "100000000000000000000"),
        (numeric(weight: 0, scale: 0, []), "0"),
        (numeric(weight: 4, scale: 18, [1234, 5678, 9012, 3456, 7890, 1234, 5678, 9012, 3456, 7800]),
         "12345678901234567890.1234567890123456780"),
        (numeric(weight: -32, sign: 0x4000, scale: 130, [5]), "-5e-128"),
    ]

    @Test(arguments: binaryCases)
    func binaryNumericDecodesExactlyWithNegativeWeightsAndManyDigits(payload: [UInt8], text: String) throws {
        let expected = try #require(Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")))
        #expect(try decode(Decimal.self, payload, .numeric, .binary) == expected)
    }

    @Test(arguments: [
        "12345.6789", "-0.0010", "0", "0.000", "98765432109876543210.98765432109876543", "-1", "+3.5",
    ])
    func textNumericDecodesExactly(text: String) throws {
        let expected = try #require(Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")))
        #expect(try decodeText(Decimal.self, text, .numeric) == expected)
    }

    /// NaN, infinities and more than 38 significant digits are errors, not rounding.
    @Test func nanInfinitiesAndMoreThan38SignificantDigitsAreErrors() {
        let cases: [[UInt8]] = [
            Self.numeric(weight: 0, sign: 0xC000, scale: 0, []), Self.numeric(weight: 0, sign: 0xD000, scale: 0, []),
            Self.numeric(weight: 10, scale: 0, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),  // 41 significant digits
            Array("NaN".utf8), Array("-Infinity".utf8), Array("1234567890123456789012345678901234567.89".utf8),
        ]
        for (index, payload) in cases.enumerated() {
            let format: ValueFormat = index < 3 ? .binary : .text
            #expect(decodingError { _ = try decode(Decimal.self, payload, .numeric, format) }?.code == .unrepresentable)
        }
        #expect(decodingError { _ = try decodeText(Decimal.self, "1.2.3", .numeric) }?.code == .malformedValue)
    }

    @Test func integerColumnsDecodeIntoDecimal() throws {
        #expect(try decode(Decimal.self, bigEndian(Int64.min), .int8, .binary) == Decimal(Int64.min))
    }

    @Test(arguments: binaryCases.prefix(5))
    func decimalsEncodeInNumericsBinaryFormat(payload: [UInt8], text: String) throws {
        let value = try #require(Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")))
        // Zero has no sign and no scale; the others keep the scale of their shortest form.
        #expect(try encoded(value) == payload)
    }

    @Test func decimalNanEncodesAsNumericNaN() throws {
        #expect(try encoded(Decimal.nan) == Self.numeric(weight: 0, sign: 0xC000, scale: 0, []))
    }
}
