public import PostgresTransport

/// `bool`, bound in binary.
extension Bool: PostgresNonThrowingEncodable, PostgresArrayEncodable, PostgresDecodable {
    /// `bool`.
    public static var postgresDataType: PostgresDataType { .bool }
    /// `bool[]`.
    public static var postgresArrayDataType: PostgresDataType { .boolArray }
    /// Appends one byte: 1 or 0.
    public func encode(into buffer: inout [UInt8]) { buffer.append(self ? 1 : 0) }

    /// Reads `bool`: one byte in binary, `t` or `f` in text.
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType, format: ValueFormat)
        throws(PostgresDecodingError)
    {
        guard type == .bool else { throw .typeMismatch(type, format, expected: "bool") }
        guard bytes.count == 1 else { throw .malformed("a bool value is one byte") }
        switch (format, bytes[0]) {
        case (.binary, 1), (.text, UInt8(ascii: "t")): self = true
        case (.binary, 0), (.text, UInt8(ascii: "f")): self = false
        default: throw .malformed("not a valid bool value")
        }
    }
}
