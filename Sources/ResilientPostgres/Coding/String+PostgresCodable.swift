internal import Foundation
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
        // One pass that validates and copies, then a compare: decoding validates the bytes (ASCII quickly) as it
        // copies them into the string, and repairs invalid UTF-8 with U+FFFD. A repair always changes the bytes, and
        // valid UTF-8 is never changed, so the text was valid exactly when the string holds the same bytes. The
        // compare of bytes just copied costs less than a separate validation before the copy.
        var string = String(decoding: bytes, as: UTF8.self)
        let isUnchanged = string.withUTF8 { utf8 in
            guard utf8.count == bytes.count else { return false }
            return utf8.isEmpty || memcmp(utf8.baseAddress!, bytes.baseAddress!, utf8.count) == 0
        }
        guard isUnchanged else { throw PostgresDecodingError(.invalidUTF8, reason: "the text is not valid UTF-8") }
        self = string
    }
}
