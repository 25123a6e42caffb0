import ResilientPostgres
import Testing
import TestSupport

@Suite("Integer coding", .capturingLogs)
struct IntegerCodingTests {
    @Test(arguments: [Int64.min, -1, 0, 1, Int64.max])
    func binaryInt8DecodesAtTheEdges(value: Int64) throws {
        #expect(try decode(Int64.self, bigEndian(value), .int8, .binary) == value)
        #expect(try decode(Int.self, bigEndian(value), .int8, .binary) == Int(value))
    }

    @Test(arguments: [
        ("-9223372036854775808", Int64.min), ("9223372036854775807", Int64.max), ("0", 0), ("-42", -42),
    ])
    func textIntegersDecodeAtTheEdges(text: String, value: Int64) throws {
        #expect(try decodeText(Int64.self, text, .int8) == value)
    }

    @Test func int2AndInt4ColumnsWidenIntoInt() throws {
        #expect(try decode(Int.self, bigEndian(Int16.min), .int2, .binary) == -32768)
        #expect(try decode(Int.self, bigEndian(Int32.max), .int4, .binary) == 2_147_483_647)
        #expect(try decode(Int16.self, bigEndian(Int32(-300)), .int4, .binary) == -300)
        #expect(try decodeText(Int32.self, "-2147483648", .int4) == Int32.min)
    }

    @Test(arguments: [
        ([UInt8](bigEndian(Int32(32768))), PostgresDataType.int4, ValueFormat.binary),
        (bigEndian(Int64(Int64(Int32.max) + 1)), .int8, .binary),
        (Array("-32769".utf8), .int2, .text),
    ])
    func valueOutsideTheRequestedTypeIsAnErrorNotATruncation(
        bytes: [UInt8], type: PostgresDataType, format: ValueFormat
    ) {
        let error = decodingError { _ = try decode(Int16.self, bytes, type, format) }
        #expect(error?.code == .outOfRange)
    }

    @Test(arguments: [
        (Array("9223372036854775808".utf8), ValueFormat.text), (Array("12a".utf8), .text), (Array("".utf8), .text),
        (Array("-".utf8), .text), ([0, 0, 1], .binary),
    ])
    func textOutOfInt64sRangeJunkAndWrongSizesAreMalformed(bytes: [UInt8], format: ValueFormat) {
        let error = decodingError { _ = try decode(Int64.self, bytes, .int8, format) }
        #expect(error?.code == .malformedValue)
    }

    @Test func nonIntegerColumnsAreATypeMismatch() {
        #expect(decodingError { _ = try decode(Int.self, bigEndian(Int64(1)), .float8, .binary) }?.code == .typeMismatch)
        #expect(decodingError { _ = try decodeText(Int.self, "1", .text) }?.code == .typeMismatch)
    }

    @Test func integersEncodeBigEndianWithTheirOwnType() throws {
        #expect(try encoded(Int64.min) == [0x80, 0, 0, 0, 0, 0, 0, 0])
        #expect(try encoded(Int(-2)) == [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE])
        #expect(try encoded(Int32(0x0102_0304)) == [1, 2, 3, 4])
        #expect(try encoded(Int16(-1)) == [0xFF, 0xFF])
        #expect(Int.postgresDataType == .int8 && Int32.postgresDataType == .int4 && Int16.postgresDataType == .int2)
    }

    /// Integers are bound without the array their encoding fills, as the same parameters as through it.
    @Test func integersBindAsTheirEncodedBytes() throws {
        func bytes<Value: PostgresNonThrowingEncodable>(_ value: Value) -> [UInt8] {
            var bytes: [UInt8] = []
            value.encode(into: &bytes)
            return bytes
        }
        for value in [Int.min, -2, 0, 1, Int.max] { #expect(value.makeParameter() == .binary(bytes(value), type: 20)) }
        for value in [Int64.min, -1, 42] { #expect(value.makeParameter() == .binary(bytes(value), type: 20)) }
        for value in [Int32.min, -1, 0x0102_0304] { #expect(value.makeParameter() == .binary(bytes(value), type: 23)) }
        for value in [Int16.min, -1, 258] { #expect(value.makeParameter() == .binary(bytes(value), type: 21)) }
        #expect(Optional(Int32(7)).makeParameter() == .binary([0, 0, 0, 7], type: 23))
    }

    @Test func nullIntoANonOptionalIntegerIsAnErrorIntoAnOptionalItIsNil() throws {
        #expect(decodingError { _ = try decode(Int.self, nil, .int8, .binary) }?.code == .unexpectedNull)
        #expect(try decode(Int?.self, nil, .int8, .binary) == nil)
        #expect(try decode(Int?.self, bigEndian(Int64(7)), .int8, .binary) == 7)
    }
}
