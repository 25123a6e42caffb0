import Foundation
import PostgresPolicy
import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

/// Inputs the fuzzer (`make fuzz`) found, and a seeded random harness that runs in every `make test`: whatever the
/// bytes, a decoder returns a value or throws a `PostgresDecodingError` that says why; it never traps.
@Suite("Decoding arbitrary bytes", .capturingLogs)
struct DecodingRobustnessTests {
    /// A binary date too far from 2000 for int8 microseconds is out of range, not an overflow trap.
    @Test(arguments: [0x5B00_235C, Int32.max - 1, Int32.min + 1, 106_751_992, -106_751_992] as [Int32])
    func binaryDateTooFarFrom2000ForInt8MicrosecondsIsOutOfRange(days: Int32) {
        let error = decodingError { _ = try decode(Date.self, bigEndian(days), .date, .binary) }
        #expect(error?.code == .outOfRange)
    }

    @Test(arguments: [
        Int64.min + 1, Int64.min + 366 * 86_400_000_000 - 1,
    ])
    func binaryTimestampsNearTheLowEndOfInt8AreOutOfRange(micros: Int64) {
        for type in [PostgresDataType.timestamptz, .timestamp] {
            let error = decodingError { _ = try decode(Date.self, bigEndian(micros), type, .binary) }
            #expect(error?.code == .outOfRange)
        }
    }

    @Test func lastTimestampPostgreSQLAcceptsStillDecodes() throws {
        let date = try decodeText(Date.self, "294276-12-31 23:59:59.999999", .timestamp)
        // 294,276 years after year 0 is about 9.2e12 seconds after 2001.
        #expect(date.timeIntervalSinceReferenceDate > 9.2e12)
    }

    /// Text dates: a 7-digit year beyond int8 microseconds is out of range, more digits are malformed.
    @Test func textDatesA7DigitYearBeyondInt8MicrosecondsIsOutOfRange() {
        #expect(decodingError { _ = try decodeText(Date.self, "5874897-12-31", .date) }?.code == .outOfRange)
        #expect(decodingError { _ = try decodeText(Date.self, "12345678-01-01", .date) }?.code == .malformedValue)
        let longYear = "999999999999999999-01-01 00:00:00+00"
        #expect(decodingError { _ = try decodeText(Date.self, longYear, .timestamptz) }?.code == .malformedValue)
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func seededRandomAndMutatedPayloadsNeverTrapADecoder(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var decoded = 0
        var failed = 0
        for _ in 0..<4_000 {
            let decoder = RandomDecoding.decoders.randomElement(using: &random)!
            let type = RandomDecoding.types.randomElement(using: &random)!
            let format: ValueFormat = Bool.random(using: &random) ? .binary : .text
            let bytes = RandomDecoding.payload(using: &random)
            bytes.withUnsafeBytes { raw in
                switch decoder(raw, type, format) {
                case nil: decoded += 1
                case let reason?:
                    failed += 1
                    #expect(!reason.isEmpty)
                }
            }
        }
        // Both outcomes happen: the harness reaches the decoders' success paths, not only their first check.
        #expect(decoded > 0)
        #expect(failed > 0)
    }
}

/// The decoders and types the random harness draws from.
private enum RandomDecoding {
    /// Decodes and returns nil, or the error's reason.
    typealias Decoder = @Sendable (UnsafeRawBufferPointer, PostgresDataType, ValueFormat) -> String?

    static let types: [PostgresDataType] = [
        .bool, .bytea, .char, .name, .int8, .int2, .int4, .text, .json, .float4, .float8, .unknown, .bpchar,
        .varchar, .date, .timestamp, .timestamptz, .numeric, .uuid, .jsonb, .boolArray, .byteaArray, .int2Array,
        .int4Array, .textArray, .int8Array, .float8Array, .dateArray, .timestamptzArray, .numericArray, .uuidArray,
        .jsonbArray, PostgresDataType(16_385),
    ]

    static let decoders: [Decoder] = [
        decoder(Bool.self), decoder(Int16.self), decoder(Int32.self), decoder(Int64.self), decoder(Int.self),
        decoder(UInt8.self), decoder(Float.self), decoder(Double.self), decoder(String.self), decoder([UInt8].self),
        decoder(Data.self), decoder(UUID.self), decoder(Date.self), decoder(Decimal.self),
        decoder(PostgresJSON<[String: Int]>.self), decoder(Int?.self), decoder([Int].self), decoder([String?].self),
        decoder([Date?].self), decoder([Decimal].self), decoder([UUID?].self), decoder([Double].self),
        decoder([[UInt8]?].self), decoder([[Int]].self),
    ]

    static func decoder<T: PostgresDecodable & SendableMetatype>(_: T.Type) -> Decoder {
        { bytes, type, format in
            do throws(PostgresDecodingError) {
                _ = try T(postgresBytes: bytes, type: type, format: format)
                return nil
            } catch {
                return error.reason
            }
        }
    }

    /// Random bytes, or a well-formed value of some type with a few bytes changed, or one unchanged.
    static func payload(using random: inout SplitMix64) -> [UInt8] {
        var bytes: [UInt8]
        if Bool.random(using: &random) {
            bytes = (0..<Int.random(in: 0...40, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
        } else {
            bytes = Array(seeds.randomElement(using: &random)!)
            for _ in 0..<Int.random(in: 0...2, using: &random) where !bytes.isEmpty {
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
        }
        return bytes
    }

    /// Well-formed values in either format, so that mutations reach past the first checks.
    static let seeds: [[UInt8]] = [
        Array("t".utf8), [1], Array("-9223372036854775808".utf8), bigEndian(Int32(-7)), bigEndian(Int64.max),
        Array("3.25".utf8), Array("NaN".utf8), bigEndian(Double(2.5).bitPattern), Array("\\x0a1b".utf8),
        Array("a\\\\b\\001".utf8), Array("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11".utf8),
        Array("2024-01-31 12:34:56.789+05:30".utf8), Array("0044-03-15 BC".utf8), bigEndian(Int32(8796)),
        Array("-123.4500".utf8), bigEndian(Int16(2)) + bigEndian(Int16(1)) + [0, 0, 0, 2] + bigEndian(Int16(12)) +
            bigEndian(Int16(3400)),
        Array("{\"a\": 1}".utf8), [1] + Array("{\"b\": 2}".utf8), Array("{1,NULL,\"3\"}".utf8),
        Array("[0:1]={\"a b\",\\\"c}".utf8), Array("{{1,2},{3,4}}".utf8),
        binaryArray(elementType: 23, [bigEndian(Int32(1)), nil]), binaryArray(elementType: 25, [Array("x".utf8)]),
    ]
}
