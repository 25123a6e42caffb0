import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

@Suite("Floating-point coding", .capturingLogs)
struct FloatingPointCodingTests {
    @Test(arguments: [
        0.0, -0.0, 1.5, -2.25e-300, Double.greatestFiniteMagnitude, Double.leastNonzeroMagnitude,
        Double.infinity, -Double.infinity,
    ])
    func binaryFloat8DecodesSpecialAndExtremeValues(value: Double) throws {
        let decoded = try decode(Double.self, bigEndian(value.bitPattern), .float8, .binary)
        #expect(decoded.bitPattern == value.bitPattern)
    }

    @Test func nanDecodesInBothFormats() throws {
        #expect(try decode(Double.self, bigEndian(Double.nan.bitPattern), .float8, .binary).isNaN)
        #expect(try decodeText(Double.self, "NaN", .float8).isNaN)
        #expect(try decodeText(Float.self, "NaN", .float4).isNaN)
    }

    @Test(arguments: [
        ("Infinity", Double.infinity), ("-Infinity", -Double.infinity), ("1.5", 1.5), ("-1e-300", -1e-300),
        ("1.7976931348623157e+308", Double.greatestFiniteMagnitude), ("0.1", 0.1),
    ])
    func textFloatsDecodeAsPostgreSQLWritesThem(text: String, value: Double) throws {
        #expect(try decodeText(Double.self, text, .float8) == value)
    }

    /// Float4 widens into Double exactly; float8 narrows into Float only exactly.
    @Test func float4WidensIntoDoubleExactly() throws {
        let float: Float = 0.1
        #expect(try decode(Double.self, bigEndian(float.bitPattern), .float4, .binary) == Double(float))
        #expect(try decode(Float.self, bigEndian(Double(0.5).bitPattern), .float8, .binary) == 0.5)
        let inexact = decodingError { _ = try decode(Float.self, bigEndian(Double(0.1).bitPattern), .float8, .binary) }
        #expect(inexact?.code == .outOfRange)
    }

    @Test func malformedAndMismatchedFloatsAreErrors() {
        #expect(decodingError { _ = try decodeText(Double.self, "1.5x", .float8) }?.code == .malformedValue)
        #expect(decodingError { _ = try decode(Double.self, [0, 0, 0], .float8, .binary) }?.code == .malformedValue)
        #expect(decodingError { _ = try decodeText(Double.self, "1.5", .numeric) }?.code == .typeMismatch)
    }

    @Test func floatsEncodeAsIEEE754BitsBigEndian() throws {
        #expect(try encoded(1.0) == [0x3F, 0xF0, 0, 0, 0, 0, 0, 0])
        #expect(try encoded(Float(-2)) == [0xC0, 0, 0, 0])
        #expect(try encoded(Double.infinity) == [0x7F, 0xF0, 0, 0, 0, 0, 0, 0])
    }
}
