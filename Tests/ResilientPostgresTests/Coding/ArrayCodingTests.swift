import Foundation
import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

@Suite("Array, optional and JSON coding", .capturingLogs)
struct ArrayCodingTests {
    @Test func binaryArraysWithNULLsDecodeIntoArraysOfOptionals() throws {
        let payload = binaryArray(elementType: 23, [bigEndian(Int32(1)), nil, bigEndian(Int32(-3))])
        #expect(try decode([Int?].self, payload, .int4Array, .binary) == [1, nil, -3])
        let error = decodingError { _ = try decode([Int].self, payload, .int4Array, .binary) }
        #expect(error?.code == .unexpectedNull)
        #expect(error?.reason.contains("element 2") == true)
    }

    @Test func binaryArraysOfEachElementTypeDecode() throws {
        #expect(try decode([Int].self, binaryArray(elementType: 20, [bigEndian(Int64.min)]), .int8Array, .binary) == [.min])
        #expect(try decode([Int16].self, binaryArray(elementType: 21, [bigEndian(Int16(7))]), .int2Array, .binary) == [7])
        let texts: [[UInt8]?] = [Array("a b".utf8), [], Array("ü".utf8)]
        #expect(try decode([String].self, binaryArray(elementType: 25, texts), .textArray, .binary) == ["a b", "", "ü"])
        #expect(try decode([Bool].self, binaryArray(elementType: 16, [[1], [0]]), .boolArray, .binary) == [true, false])
        let floats = binaryArray(elementType: 701, [bigEndian(Double.infinity.bitPattern)])
        #expect(try decode([Double].self, floats, .float8Array, .binary) == [.infinity])
        #expect(try decode([Int].self, binaryArray(elementType: 20, []), .int8Array, .binary) == [])
    }

    @Test func multiDimensionalAndTruncatedBinaryArraysAreErrors() {
        var twoDimensional = bigEndian(Int32(2)) + bigEndian(Int32(0)) + bigEndian(UInt32(23))
        twoDimensional += bigEndian(Int32(1)) + bigEndian(Int32(1)) + bigEndian(Int32(1)) + bigEndian(Int32(1))
        #expect(decodingError { _ = try decode([Int].self, twoDimensional, .int4Array, .binary) }?.code == .unsupportedShape)
        let truncated = Array(binaryArray(elementType: 23, [bigEndian(Int32(1))]).dropLast())
        #expect(decodingError { _ = try decode([Int].self, truncated, .int4Array, .binary) }?.code == .malformedValue)
    }

    @Test(arguments: [
        ("{1,2,NULL,-4}", [1, 2, nil, -4] as [Int?]), ("{}", []), ("[0:1]={5,6}", [5, 6]), ("{null}", [nil]),
    ])
    func textArraysDecodeWithQuotesEscapesNULLAndBounds(text: String, expected: [Int?]) throws {
        #expect(try decodeText([Int?].self, text, .int4Array) == expected)
    }

    @Test func textArraysOfStringsUnquoteAndUnescape() throws {
        let text = #"{"a b","q\"uote",NULL,plain,"NULL","","back\\slash",es\,c}"#
        let expected: [String?] = ["a b", "q\"uote", nil, "plain", "NULL", "", "back\\slash", "es,c"]
        #expect(try decodeText([String?].self, text, .textArray) == expected)
        #expect(try decodeText([Double].self, "{NaN,Infinity,-1.5}", .float8Array).map(\.description) == ["nan", "inf", "-1.5"])
        #expect(try decodeText([Bool].self, "{t,f}", .boolArray) == [true, false])
    }

    @Test(arguments: [
        ("{1,2", PostgresDecodingError.Code.malformedValue), ("1,2}", .malformedValue), ("{1,2}x", .malformedValue),
        ("{{1,2},{3,4}}", .unsupportedShape), ("{1,x}", .malformedValue),
    ])
    func malformedAndMultiDimensionalTextArraysAreErrors(text: String, code: PostgresDecodingError.Code) {
        #expect(decodingError { _ = try decodeText([Int].self, text, .int4Array) }?.code == code)
    }

    /// Arrays encode in the binary array format, with the NULL flag set when needed.
    @Test func arraysEncodeInTheBinaryArrayFormat() throws {
        #expect(try encoded([1, -2]) == binaryArray(elementType: 20, [bigEndian(Int64(1)), bigEndian(Int64(-2))]))
        #expect(try encoded([Int32(1), nil]) == binaryArray(elementType: 23, [bigEndian(Int32(1)), nil]))
        #expect(try encoded(["é", ""]) == binaryArray(elementType: 25, [[0xC3, 0xA9], []]))
        #expect(try encoded([Bool]()) == binaryArray(elementType: 16, []))
        #expect([String].postgresDataType == .textArray && [Int?].postgresDataType == .int8Array)
        #expect([Data].postgresDataType == .byteaArray && [UUID].postgresDataType == .uuidArray)
    }

    @Test func optionalsEncodeAsNULLWhenNil() throws {
        let absent: Int? = nil
        let zero: Int? = 0
        #expect(absent.isPostgresNull)
        #expect(!zero.isPostgresNull)
        #expect(try encoded(Int?.some(1)) == bigEndian(Int64(1)))
    }

    struct Event: Codable, Equatable, Sendable {
        var name: String
        var tags: [String]
    }

    @Test func jsonDecodesFromJsonAndJsonbInBothFormats() throws {
        let json = Array(#"{"name":"deploy","tags":["a","é"]}"#.utf8)
        let event = Event(name: "deploy", tags: ["a", "é"])
        #expect(try decode(PostgresJSON<Event>.self, [1] + json, .jsonb, .binary).value == event)
        #expect(try decode(PostgresJSON<Event>.self, json, .jsonb, .text).value == event)
        #expect(try decode(PostgresJSON<Event>.self, json, .json, .binary).value == event)
        #expect(try decode(PostgresJSON<Event>.self, json, .json, .text).value == event)
        #expect(decodingError { _ = try decode(PostgresJSON<Event>.self, [2] + json, .jsonb, .binary) }?.code == .malformedValue)
        #expect(decodingError { _ = try decode(PostgresJSON<Event>.self, json, .text, .text) }?.code == .typeMismatch)
    }

    /// JSON that does not match the type is an error whose description hides the value.
    @Test func jsonThatDoesNotMatchTheTypeIsAnErrorWhoseDescriptionHidesTheValue() {
        let error = decodingError { _ = try decodeText(PostgresJSON<Event>.self, #"{"name":"s3cr3t"}"#, .json) }
        #expect(error?.code == .malformedValue)
        #expect(error?.description.contains("s3cr3t") == false)
        #expect(error.map { String(reflecting: $0) }?.contains("JSONDecoder") == true)
    }

    @Test func jsonEncodesAsJsonbVersionByte1ThenTheJSONText() throws {
        let bytes = try encoded(PostgresJSON(Event(name: "x", tags: [])))
        #expect(bytes.first == 1)
        #expect(try JSONDecoder().decode(Event.self, from: Data(bytes.dropFirst())) == Event(name: "x", tags: []))
        #expect(PostgresJSON<Event>.postgresDataType == .jsonb)
    }
}
