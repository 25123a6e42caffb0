public import PostgresTransport

/// SQL NULL when absent; otherwise the wrapped value, of the wrapped type.
extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    /// The wrapped type's.
    public static var postgresDataType: PostgresDataType { Wrapped.postgresDataType }
    /// The wrapped type's.
    public static var postgresFormat: ValueFormat { Wrapped.postgresFormat }
    /// True when absent.
    public var isPostgresNull: Bool { self?.isPostgresNull ?? true }
    /// Appends the wrapped value; nothing when absent.
    public func encode(into buffer: inout [UInt8]) throws { try self?.encode(into: &buffer) }
}

extension Optional: PostgresNonThrowingEncodable where Wrapped: PostgresNonThrowingEncodable {
    /// Appends the wrapped value; nothing when absent.
    public func encode(into buffer: inout [UInt8]) { self?.encode(into: &buffer) }
}

extension Optional: PostgresArrayEncodable where Wrapped: PostgresArrayEncodable {
    /// The wrapped type's.
    public static var postgresArrayDataType: PostgresDataType { Wrapped.postgresArrayDataType }
    /// The wrapped type's.
    public static var postgresArrayElementDataType: PostgresDataType { Wrapped.postgresArrayElementDataType }
}

/// nil for SQL NULL; otherwise the wrapped type's decoding.
extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    /// Decodes the wrapped type.
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType, format: ValueFormat)
        throws(PostgresDecodingError)
    {
        self = .some(try Wrapped(postgresBytes: bytes, type: type, format: format))
    }

    /// nil.
    public static func decodePostgresNull(type: PostgresDataType) -> Self { .none }
}
