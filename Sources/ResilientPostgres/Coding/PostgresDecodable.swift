public import PostgresTransport

/// A type that can be read from a PostgreSQL value, in the text or the binary wire format.
///
/// Conformers implement ``init(postgresBytes:type:format:)`` for non-NULL values; SQL NULL is an
/// ``PostgresDecodingError/Code/unexpectedNull`` error unless the type says otherwise (`Optional` reads it as nil).
public protocol PostgresDecodable {
    /// Decodes a non-NULL value from its bytes, given the column's type and the wire format.
    ///
    /// The bytes are valid only during the call. Throw a ``PostgresDecodingError`` whose reason never includes the
    /// value; the row adds the column, type and Swift type.
    init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType, format: ValueFormat)
        throws(PostgresDecodingError)

    /// The value for SQL NULL. The default throws ``PostgresDecodingError/Code/unexpectedNull``.
    static func decodePostgresNull(type: PostgresDataType) throws(PostgresDecodingError) -> Self
}

extension PostgresDecodable {
    /// Throws ``PostgresDecodingError/Code/unexpectedNull``: a non-optional type cannot hold SQL NULL.
    public static func decodePostgresNull(type: PostgresDataType) throws(PostgresDecodingError) -> Self {
        throw PostgresDecodingError(.unexpectedNull, reason: "the value is NULL; decode an Optional to accept NULL")
    }

    /// Decodes a value from its bytes, or from SQL NULL when `bytes` is nil.
    @inlinable
    public init(postgresBytes bytes: UnsafeRawBufferPointer?, type: PostgresDataType, format: ValueFormat)
        throws(PostgresDecodingError)
    {
        if let bytes {
            try self.init(postgresBytes: bytes, type: type, format: format)
        } else {
            self = try Self.decodePostgresNull(type: type)
        }
    }
}

extension PostgresDecodingError {
    /// The column's type is not one this Swift type reads.
    static func typeMismatch(_ type: PostgresDataType, _ format: ValueFormat, expected: String) -> PostgresDecodingError {
        PostgresDecodingError(
            .typeMismatch,
            reason: "\(format == .binary ? "binary" : "text") \(type) is not readable here; expected \(expected)"
        )
    }

    /// The bytes are not a valid value in the given format.
    static func malformed(_ what: String) -> PostgresDecodingError {
        PostgresDecodingError(.malformedValue, reason: what)
    }
}
