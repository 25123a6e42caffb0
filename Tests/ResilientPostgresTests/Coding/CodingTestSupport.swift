import Foundation
import PostgresTransport
import ResilientPostgres
import Testing

/// Decodes a hand-made payload, as a cell would hand it to the type.
func decode<T: PostgresDecodable>(
    _: T.Type, _ bytes: [UInt8]?, _ type: PostgresDataType, _ format: ValueFormat
) throws(PostgresDecodingError) -> T {
    guard let bytes else { return try T(postgresBytes: nil, type: type, format: format) }
    return try bytes.withUnsafeBytes { raw in
        Result { () throws(PostgresDecodingError) in try T(postgresBytes: raw, type: type, format: format) }
    }.get()
}

/// Decodes a text-format payload.
func decodeText<T: PostgresDecodable>(_: T.Type, _ text: String, _ type: PostgresDataType) throws(PostgresDecodingError) -> T {
    try decode(T.self, Array(text.utf8), type, .text)
}

/// The error a decoding throws, or nil when it succeeds.
func decodingError(_ body: () throws -> Void) -> PostgresDecodingError? {
    do {
        try body()
        return nil
    } catch let error as PostgresDecodingError {
        return error
    } catch {
        Issue.record("expected a PostgresDecodingError, got \(error)")
        return nil
    }
}

/// The bytes a value encodes to.
func encoded(_ value: some PostgresEncodable) throws -> [UInt8] {
    var buffer: [UInt8] = []
    try value.encode(into: &buffer)
    return buffer
}

/// Big-endian bytes of an integer, written out independently of the encoders.
func bigEndian<Value: FixedWidthInteger>(_ value: Value) -> [UInt8] {
    (0..<MemoryLayout<Value>.size).reversed().map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
}

/// A binary one-dimensional array payload with elements already encoded (nil for NULL).
func binaryArray(elementType: UInt32, _ elements: [[UInt8]?]) -> [UInt8] {
    var bytes = bigEndian(Int32(elements.isEmpty ? 0 : 1)) + bigEndian(Int32(elements.contains(nil) ? 1 : 0))
    bytes += bigEndian(elementType)
    guard !elements.isEmpty else { return bytes }
    bytes += bigEndian(Int32(elements.count)) + bigEndian(Int32(1))
    for element in elements {
        if let element { bytes += bigEndian(Int32(element.count)) + element } else { bytes += bigEndian(Int32(-1)) }
    }
    return bytes
}
