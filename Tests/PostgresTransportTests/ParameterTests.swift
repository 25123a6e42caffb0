import PostgresTransport
import Testing
import TestSupport

/// Binary values are kept inline up to 8 bytes and in an array beyond: either way they read back, compare and
/// describe the same.
@Suite("Parameters", .capturingLogs)
struct ParameterTests {
    @Test(arguments: [0, 1, 7, 8, 9, 64])
    func binaryValuesReadBackAsGiven(count: Int) {
        let bytes = (0..<count).map { UInt8(truncatingIfNeeded: 0xA0 + $0) }
        let parameter = Parameter.binary(bytes, type: 17)
        #expect(parameter.bytes == bytes)
        #expect(parameter.format == .binary)
        #expect(parameter == .binary(bytes, type: 17))
        #expect(parameter != .binary(bytes + [0], type: 17))
        #expect(parameter != .binary(bytes, type: 20))
        #expect(parameter.description == "Parameter(binary, \(count) bytes, type: 17)")
    }

    @Test func anIntegerMadeInlineIsTheSameParameterAsItsBytes() {
        let minusTwo: [UInt8] = [255, 255, 255, 255, 255, 255, 255, 254]
        #expect(Parameter.binary(bigEndianOf: Int64(-2), type: 20) == .binary(minusTwo, type: 20))
        #expect(Parameter.binary(bigEndianOf: Int32(258), type: 23) == .binary([0, 0, 1, 2], type: 23))
        #expect(Parameter.binary(bigEndianOf: Int16(1), type: 21) == .binary([0, 1], type: 21))
        #expect(Parameter.binary(bigEndianOf: Int16(1), type: 21) != .binary([1, 0], type: 21))
    }

    @Test func equalValuesHashAlike() {
        let values: Set<Parameter> = [.binary([0, 0, 0, 1], type: 23), .binary([0, 0, 0, 1], type: 23), .null()]
        #expect(values.count == 2)
    }
}
