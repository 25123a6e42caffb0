/// A one-dimensional PostgreSQL array (`int8[]` for `[Int]`), bound in binary; `[UInt8]` is `bytea` instead.
///
/// `nil` elements of an array of optionals are SQL NULL elements.
extension Array: PostgresEncodable where Element: PostgresArrayEncodable {
    /// The element type's array type; `bytea` for `[UInt8]`.
    public static var postgresDataType: PostgresDataType { Element.postgresArrayDataType }

    /// Appends the array's binary format, or the raw bytes for `[UInt8]`.
    ///
    /// - Throws: The first error an element's encoding throws.
    public func encode(into buffer: inout [UInt8]) throws {
        try encodePostgresArray(into: &buffer) { element, buffer in try element.encode(into: &buffer) }
    }

    /// Writes the header, then each element with its length (-1 for NULL).
    func encodePostgresArray<Failure: Error>(
        into buffer: inout [UInt8],
        _ encodeElement: (Element, inout [UInt8]) throws(Failure) -> Void
    ) throws(Failure) {
        if Element.self == UInt8.self {
            buffer.append(contentsOf: unsafeBitCast(self, to: [UInt8].self))  // Element is UInt8: the same type
            return
        }
        buffer.appendBigEndian(Int32(isEmpty ? 0 : 1))  // dimensions
        buffer.appendBigEndian(Int32(contains { $0.isPostgresNull } ? 1 : 0))  // has NULLs
        buffer.appendBigEndian(Element.postgresArrayElementDataType.rawValue)
        guard !isEmpty else { return }
        buffer.appendBigEndian(Int32(count))
        buffer.appendBigEndian(Int32(1))  // lower bound
        for element in self {
            if element.isPostgresNull {
                buffer.appendBigEndian(Int32(-1))
                continue
            }
            let lengthOffset = buffer.count
            buffer.appendBigEndian(Int32(0))
            try encodeElement(element, &buffer)
            let length = Int32(buffer.count - lengthOffset - 4).bigEndian
            Swift.withUnsafeBytes(of: length) { bytes in
                buffer.replaceSubrange(lengthOffset..<(lengthOffset + 4), with: bytes)
            }
        }
    }
}

extension Array: PostgresNonThrowingEncodable where Element: PostgresNonThrowingEncodable & PostgresArrayEncodable {
    /// Appends the array's binary format, or the raw bytes for `[UInt8]`.
    public func encode(into buffer: inout [UInt8]) {
        encodePostgresArray(into: &buffer) { (element, buffer) throws(Never) in element.encode(into: &buffer) }
    }
}
