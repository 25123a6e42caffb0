public import PostgresTransport

/// `float4`, bound in binary.
extension Float: PostgresNonThrowingEncodable, PostgresArrayEncodable, PostgresDecodable {
    /// `float4`.
    public static var postgresDataType: PostgresDataType { .float4 }
    /// `float4[]`.
    public static var postgresArrayDataType: PostgresDataType { .float4Array }
    /// Appends the IEEE 754 bits, big-endian.
    public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(bitPattern) }

    /// Reads `float4`, or `float8` when the value converts exactly (NaN and infinities included).
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType, format: ValueFormat)
        throws(PostgresDecodingError)
    {
        switch type {
        case .float4:
            self = try Self.decodePostgresFloat(bytes, format: format, type: type)
        case .float8:
            let wide = try Double.decodePostgresFloat(bytes, format: format, type: type)
            guard let narrow = Float(exactly: wide) ?? (wide.isNaN ? .nan : nil) else {
                throw PostgresDecodingError(.outOfRange, reason: "the float8 value has no exact Float")
            }
            self = narrow
        default:
            throw .typeMismatch(type, format, expected: "float4 or float8")
        }
    }
}

/// `float8`, bound in binary.
extension Double: PostgresNonThrowingEncodable, PostgresArrayEncodable, PostgresDecodable {
    /// `float8`.
    public static var postgresDataType: PostgresDataType { .float8 }
    /// `float8[]`.
    public static var postgresArrayDataType: PostgresDataType { .float8Array }
    /// Appends the IEEE 754 bits, big-endian.
    public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(bitPattern) }

    /// Reads `float8` or `float4` (NaN and infinities included).
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType, format: ValueFormat)
        throws(PostgresDecodingError)
    {
        switch type {
        case .float8: self = try Self.decodePostgresFloat(bytes, format: format, type: type)
        case .float4: self = Double(try Float.decodePostgresFloat(bytes, format: format, type: type))
        default: throw .typeMismatch(type, format, expected: "float4 or float8")
        }
    }
}

extension BinaryFloatingPoint where Self: LosslessStringConvertible {
    /// Reads a float of this very width: IEEE 754 bits in binary; digits, `NaN`, `Infinity`, `-Infinity` in text.
    static func decodePostgresFloat(
        _ bytes: UnsafeRawBufferPointer, format: ValueFormat, type: PostgresDataType
    ) throws(PostgresDecodingError) -> Self {
        switch format {
        case .binary:
            if MemoryLayout<Self>.size == 4, let bits = bytes.loadBigEndian(UInt32.self) {
                return Self(Float(bitPattern: bits))
            }
            if MemoryLayout<Self>.size == 8, let bits = bytes.loadBigEndian(UInt64.self) {
                return Self(Double(bitPattern: bits))
            }
            throw .malformed("a binary \(type) value has \(MemoryLayout<Self>.size) bytes")
        case .text:
            // PostgreSQL writes NaN, Infinity and -Infinity, which Swift's parser also accepts.
            guard bytes.count <= 64, let value = Self(String(decoding: bytes, as: UTF8.self)) else {
                throw .malformed("not a valid \(type) value")
            }
            return value
        }
    }
}
