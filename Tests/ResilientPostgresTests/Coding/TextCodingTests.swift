import Foundation
import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

@Suite("Text, bool, bytea and uuid coding", .capturingLogs)
struct TextCodingTests {
    @Test(arguments: [
        "", "plain", "Grüße, 世界 🐘", String(repeating: "x", count: 10_000), "\u{FFFD}",
        String(repeating: "y", count: 20) + "\u{FFFD}é", "a\u{0}b",
    ])
    func stringsDecodeFromTextTypesInBinaryAndFromAnythingInText(value: String) throws {
        for type in [PostgresDataType.text, .varchar, .bpchar, .name] {
            #expect(try decode(String.self, Array(value.utf8), type, .binary) == value)
        }
        #expect(try decode(String.self, Array(value.utf8), .timestamptz, .text) == value)
    }

    // Stray and truncated sequences, overlong forms, a surrogate, beyond U+10FFFF and a five-byte form, at the start
    // and after a run of ASCII (which validation reads a word at a time).
    @Test(arguments: [
        [0xFF], [0x61, 0xC3], [0xED, 0xA0, 0x80], [0xF0, 0x9F, 0x98, 0x61],
        Array(repeating: 0x61, count: 20) + [0xF0, 0x9F, 0x98], Array(repeating: 0x61, count: 20) + [0x80],
        [0xC0, 0x80], [0xE0, 0x80, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80],
    ] as [[UInt8]])
    func invalidUTF8IsAnErrorNotRepaired(bytes: [UInt8]) {
        #expect(decodingError { _ = try decode(String.self, bytes, .text, .binary) }?.code == .invalidUTF8)
        #expect(decodingError { _ = try decode(String.self, bytes, .text, .text) }?.code == .invalidUTF8)
    }

    @Test func binaryNonTextTypeIsNotAString() {
        #expect(decodingError { _ = try decode(String.self, bigEndian(Int32(1)), .int4, .binary) }?.code == .typeMismatch)
    }

    @Test func stringsBindAsTextWithTheTypeLeftToTheServer() throws {
        #expect(String.postgresDataType == .unspecified)
        #expect(String.postgresFormat == .text)
        #expect(try encoded("é") == [0xC3, 0xA9])
    }

    @Test func boolsDecodeInBothFormatsAndEncodeAsOneByte() throws {
        #expect(try decode(Bool.self, [1], .bool, .binary) == true)
        #expect(try decode(Bool.self, [0], .bool, .binary) == false)
        #expect(try decodeText(Bool.self, "t", .bool) == true)
        #expect(try decodeText(Bool.self, "f", .bool) == false)
        #expect(decodingError { _ = try decodeText(Bool.self, "yes", .bool) }?.code == .malformedValue)
        #expect(decodingError { _ = try decode(Bool.self, [2], .bool, .binary) }?.code == .malformedValue)
        #expect(try encoded(true) == [1])
        #expect(try encoded(false) == [0])
    }

    @Test func byteaDecodesRawInBinaryAndFromHexOrEscapeText() throws {
        #expect(try decode([UInt8].self, [0, 0xFF, 0x5C], .bytea, .binary) == [0, 0xFF, 0x5C])
        #expect(try decodeText([UInt8].self, "\\x00ff5C", .bytea) == [0, 0xFF, 0x5C])
        #expect(try decodeText([UInt8].self, "\\x", .bytea) == [])
        #expect(try decodeText([UInt8].self, "a\\\\b\\000\\377", .bytea) == [0x61, 0x5C, 0x62, 0, 0xFF])
        #expect(try decodeText(Data.self, "\\xdeadbeef", .bytea) == Data([0xDE, 0xAD, 0xBE, 0xEF]))
        #expect(decodingError { _ = try decodeText([UInt8].self, "\\x0g", .bytea) }?.code == .malformedValue)
        #expect(decodingError { _ = try decodeText([UInt8].self, "\\x0", .bytea) }?.code == .malformedValue)
    }

    @Test func byteaOf1MiBRoundTripsThroughBothFormats() throws {
        let bytes = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
        #expect(try encoded(bytes) == bytes)
        #expect(try encoded(Data(bytes)) == bytes)
        #expect(try decode([UInt8].self, bytes, .bytea, .binary) == bytes)
        let digits = Array("0123456789abcdef".utf8)
        let hex = "\\x" + String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
        #expect(try decodeText(Data.self, hex, .bytea) == Data(bytes))
        #expect([UInt8].postgresDataType == .bytea && Data.postgresDataType == .bytea)
    }

    @Test func uuidsDecodeFrom16BytesAndFromTheirTextFormAndEncodeAs16Bytes() throws {
        let text = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
        let bytes: [UInt8] = [
            0xA0, 0xEE, 0xBC, 0x99, 0x9C, 0x0B, 0x4E, 0xF8, 0xBB, 0x6D, 0x6B, 0xB9, 0xBD, 0x38, 0x0A, 0x11,
        ]
        let uuid = try #require(UUID(uuidString: text))
        #expect(try decode(UUID.self, bytes, .uuid, .binary) == uuid)
        #expect(try decodeText(UUID.self, text, .uuid) == uuid)
        #expect(try decodeText(UUID.self, text.uppercased(), .uuid) == uuid)
        #expect(try encoded(uuid) == bytes)
        #expect(decodingError { _ = try decodeText(UUID.self, "a0eebc999c0b4ef8bb6d6bb9bd380a11", .uuid) }?.code == .malformedValue)
        #expect(decodingError { _ = try decode(UUID.self, Array(bytes.prefix(15)), .uuid, .binary) }?.code == .malformedValue)
    }
}
