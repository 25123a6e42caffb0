public import PostgresTransport

/// Decoding shared by the signed integer types: any of `int2`, `int4`, `int8`, range-checked.
extension FixedWidthInteger where Self: SignedInteger {
    /// Decodes a binary integer of the size its type has, which fits `Self`, in the caller's code (inlined into an
    /// app's decode of each row, with no call); anything else (text, a value too large, a malformed or mismatched
    /// one) through ``decodeAnyPostgresInteger(_:type:format:)``, which throws the errors.
    @inlinable @inline(__always)
    static func decodePostgresInteger(
        _ bytes: UnsafeRawBufferPointer, type: PostgresDataType, format: ValueFormat
    ) throws(PostgresDecodingError) -> Self {
        if format == .binary {
            // The OIDs of int2, int4 and int8, written out: in an app's module, a static constant of this one is
            // read through a call.
            let value: Self?
            switch (type.rawValue, bytes.count) {
            case (21, 2): value = Self(exactly: Int16(bigEndian: bytes.loadUnaligned(as: Int16.self)))
            case (23, 4): value = Self(exactly: Int32(bigEndian: bytes.loadUnaligned(as: Int32.self)))
            case (20, 8): value = Self(exactly: Int64(bigEndian: bytes.loadUnaligned(as: Int64.self)))
            default: value = nil
            }
            if let value { return value }
        }
        return try decodeAnyPostgresInteger(bytes, type: type, format: format)
    }

    /// Decodes `int2`, `int4` or `int8` in either format, or throws why not.
    @usableFromInline
    static func decodeAnyPostgresInteger(
        _ bytes: UnsafeRawBufferPointer, type: PostgresDataType, format: ValueFormat
    ) throws(PostgresDecodingError) -> Self {
        let wide: Int64?
        switch (type, format) {
        case (.int2, .binary): wide = bytes.loadBigEndian(Int16.self).map(Int64.init)
        case (.int4, .binary): wide = bytes.loadBigEndian(Int32.self).map(Int64.init)
        case (.int8, .binary): wide = bytes.loadBigEndian(Int64.self)
        case (.int2, .text), (.int4, .text), (.int8, .text): wide = PostgresTextScanner.parseInt64(bytes)
        default: throw .typeMismatch(type, format, expected: "int2, int4 or int8")
        }
        guard let wide else { throw .malformed("not a valid \(type) value") }
        guard let value = Self(exactly: wide) else {
            throw PostgresDecodingError(.outOfRange, reason: "the value does not fit \(Self.self)")
        }
        return value
    }
}

/// `int2`, bound in binary.
extension Int16: PostgresNonThrowingEncodable, PostgresArrayEncodable, PostgresDecodable {
    /// `int2`.
    public static var postgresDataType: PostgresDataType { .int2 }
    /// `int2[]`.
    public static var postgresArrayDataType: PostgresDataType { .int2Array }
    /// Appends the big-endian value.
    public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(self) }
    /// Reads `int2`, `int4` or `int8`; a value outside `Int16`'s range throws ``PostgresDecodingError/Code/outOfRange``.
    @inlinable
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType, format: ValueFormat)
        throws(PostgresDecodingError)
    {
        self = try Self.decodePostgresInteger(bytes, type: type, format: format)
    }
}

/// `int4`, bound in binary.
extension Int32: PostgresNonThrowingEncodable, PostgresArrayEncodable, PostgresDecodable {
    /// `int4`.
    public static var postgresDataType: PostgresDataType { .int4 }
    /// `int4[]`.
    public static var postgresArrayDataType: PostgresDataType { .int4Array }
    /// Appends the big-endian value.
    public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(self) }
    /// Reads `int2`, `int4` or `int8`; a value outside `Int32`'s range throws ``PostgresDecodingError/Code/outOfRange``.
    @inlinable
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType, format: ValueFormat)
        throws(PostgresDecodingError)
    {
        self = try Self.decodePostgresInteger(bytes, type: type, format: format)
    }
}

/// `int8`, bound in binary.
extension Int64: PostgresNonThrowingEncodable, PostgresArrayEncodable, PostgresDecodable {
    /// `int8`.
    public static var postgresDataType: PostgresDataType { .int8 }
    /// `int8[]`.
    public static var postgresArrayDataType: PostgresDataType { .int8Array }
    /// Appends the big-endian value.
    public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(self) }
    /// Reads `int2`, `int4` or `int8`.
    @inlinable
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType, format: ValueFormat)
        throws(PostgresDecodingError)
    {
        self = try Self.decodePostgresInteger(bytes, type: type, format: format)
    }
}

/// `int8`, bound in binary.
///
/// An `int8` parameter also compares with and inserts into `int2` and `int4` columns: PostgreSQL has cross-type
/// comparison operators and an assignment cast (which fails on overflow rather than truncating).
extension Int: PostgresNonThrowingEncodable, PostgresArrayEncodable, PostgresDecodable {
    /// `int8`.
    public static var postgresDataType: PostgresDataType { .int8 }
    /// `int8[]`.
    public static var postgresArrayDataType: PostgresDataType { .int8Array }
    /// Appends the value as a big-endian `int8`.
    public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(Int64(self)) }
    /// Reads `int2`, `int4` or `int8`.
    @inlinable
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType, format: ValueFormat)
        throws(PostgresDecodingError)
    {
        self = try Self.decodePostgresInteger(bytes, type: type, format: format)
    }
}

/// `"char"`, PostgreSQL's one-byte internal type; an array of `UInt8` is `bytea` instead.
extension UInt8: PostgresNonThrowingEncodable, PostgresArrayEncodable, PostgresDecodable {
    /// `"char"`.
    public static var postgresDataType: PostgresDataType { .char }
    /// `bytea`: `[UInt8]` is bound as bytes, not as an array.
    public static var postgresArrayDataType: PostgresDataType { .bytea }
    /// Appends the byte.
    public func encode(into buffer: inout [UInt8]) { buffer.append(self) }
    /// Reads `"char"` (one byte in either format; empty for the NUL character).
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType, format: ValueFormat)
        throws(PostgresDecodingError)
    {
        guard type == .char else { throw .typeMismatch(type, format, expected: "\"char\"") }
        guard bytes.count <= 1 else { throw .malformed("a \"char\" value has at most one byte") }
        self = bytes.first ?? 0
    }
}
