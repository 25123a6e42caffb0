public import PostgresTransport

/// Text, bound in the text format with no declared type, so the server infers it from the statement.
///
/// Leaving the type to the server lets a `String` stand for any type written as text: `WHERE id = $1` with an
/// `int4` column, a `uuid`, a `date`, an enum label. For an expression whose type cannot be inferred
/// (`SELECT $1 || 'x'`), cast the parameter: `$1::text`. In an array, a `String` is `text`.
extension String: PostgresNonThrowingEncodable, PostgresArrayEncodable, PostgresDecodable {
    /// ``PostgresDataType/unspecified``: the server infers the type.
    public static var postgresDataType: PostgresDataType { .unspecified }
    /// Text.
    public static var postgresFormat: ValueFormat { .text }
    /// `text[]`.
    public static var postgresArrayDataType: PostgresDataType { .textArray }
    /// `text`.
    public static var postgresArrayElementDataType: PostgresDataType { .text }
    /// Appends the UTF-8 bytes.
    public func encode(into buffer: inout [UInt8]) { buffer.append(contentsOf: utf8) }

    /// Reads `text`, `varchar`, `bpchar`, `name` or `unknown` in binary, and any type in text (as the server wrote
    /// it). Bytes that are not valid UTF-8 throw ``PostgresDecodingError/Code/invalidUTF8`` rather than being repaired.
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType, format: ValueFormat)
        throws(PostgresDecodingError)
    {
        if format == .binary {
            switch type {
            case .text, .varchar, .bpchar, .name, .unknown: break
            default: throw .typeMismatch(type, format, expected: "text, varchar, bpchar, name or any text-format value")
            }
        }
        // One validation (ASCII a word at a time), in place, then one allocation and one copy, which knows whether
        // the text is ASCII: `UTF8Span` validates without copying, and `String(copying:)` copies without checking
        // again. (`String(decoding:as:)` would repair invalid text, and its result would need a compare with the
        // bytes; `String(validating:as:)` is generic, and not specialised outside the standard library.)
        let string: String?
        if #available(macOS 26, *) {
            string = bytes.withMemoryRebound(to: UInt8.self) { utf8 in
                do { return String(copying: try UTF8Span(validating: utf8.span)) } catch { return nil }
            }
        } else {
            string = String(validating: bytes, as: UTF8.self)
        }
        guard let string else { throw PostgresDecodingError(.invalidUTF8, reason: "the text is not valid UTF-8") }
        self = string
    }
}
