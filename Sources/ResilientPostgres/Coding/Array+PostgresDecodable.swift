public import PostgresTransport

/// A one-dimensional PostgreSQL array, in binary or text format; `[UInt8]` also reads `bytea`.
///
/// Use an array of optionals (`[Int?]`) when elements may be NULL: a NULL element of `[Int]` throws
/// ``PostgresDecodingError/Code/unexpectedNull``. Multi-dimensional arrays throw
/// ``PostgresDecodingError/Code/unsupportedShape``.
extension Array: PostgresDecodable where Element: PostgresDecodable {
    /// Reads an array whose elements `Element` reads, or `bytea` for `[UInt8]`.
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType, format: ValueFormat)
        throws(PostgresDecodingError)
    {
        if Element.self == UInt8.self, type == .bytea {
            let data: [UInt8] = format == .binary ? Array<UInt8>(bytes) : try PostgresByteaText.decode(bytes)
            self = unsafeBitCast(data, to: [Element].self)  // Element is UInt8: the same type
            return
        }
        switch format {
        case .binary: self = try Self.decodeBinaryArray(bytes, type: type)
        case .text:
            guard let elementType = type.arrayElementType else {
                throw .typeMismatch(type, format, expected: "a built-in array type")
            }
            self = try PostgresArrayText.decode(bytes, elementType: elementType)
        }
    }

    /// Header (dimensions, has-NULL flag, element type, size and lower bound per dimension), then elements, each
    /// with its length (-1 for NULL).
    private static func decodeBinaryArray(
        _ bytes: UnsafeRawBufferPointer, type: PostgresDataType
    ) throws(PostgresDecodingError) -> [Element] {
        var reader = PostgresByteReader(bytes)
        guard let dimensions = reader.read(Int32.self), reader.read(Int32.self) != nil,
            let elementOID = reader.read(UInt32.self)
        else { throw .malformed("not a binary array") }
        if dimensions == 0 { return [] }
        guard dimensions == 1 else {
            throw PostgresDecodingError(.unsupportedShape, reason: "a \(dimensions)-dimensional array; only 1 is read")
        }
        guard let count = reader.read(Int32.self), count >= 0, reader.read(Int32.self) != nil,
            Int(count) <= reader.remaining / 4
        else { throw .malformed("not a binary array") }
        let elementType = PostgresDataType(elementOID)
        var elements: [Element] = []
        elements.reserveCapacity(Int(count))
        for index in 0..<Int(count) {
            guard let length = reader.read(Int32.self) else { throw .malformed("truncated binary array") }
            var elementBytes: UnsafeRawBufferPointer?
            if length >= 0 {
                guard let slice = reader.read(count: Int(length)) else { throw .malformed("truncated binary array") }
                elementBytes = slice
            }
            elements.append(try decodeElement(elementBytes, type: elementType, format: .binary, index: index))
        }
        guard reader.remaining == 0 else { throw .malformed("unexpected bytes after binary array") }
        return elements
    }

    /// One element, with its position added to any error.
    static func decodeElement(
        _ bytes: UnsafeRawBufferPointer?, type: PostgresDataType, format: ValueFormat, index: Int
    ) throws(PostgresDecodingError) -> Element {
        do {
            return try Element(postgresBytes: bytes, type: type, format: format)
        } catch {
            var located = error
            located.reason = "element \(index + 1) (\(type)): " + error.reason
            throw located
        }
    }
}
