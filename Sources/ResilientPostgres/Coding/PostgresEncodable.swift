public import PostgresTransport

/// A type that can be bound as a statement parameter.
///
/// A value is sent separately from the SQL text, never spliced into it. Conform with ``PostgresNonThrowingEncodable``
/// when encoding cannot fail, so that queries interpolating the value need no `try`.
public protocol PostgresEncodable: Sendable {
    /// The type the parameter is declared as; ``PostgresDataType/unspecified`` lets the server infer it.
    static var postgresDataType: PostgresDataType { get }

    /// The wire format ``encode(into:)`` writes. Defaults to binary.
    static var postgresFormat: ValueFormat { get }

    /// Whether this value is SQL NULL, in which case ``encode(into:)`` is not called. Defaults to false.
    var isPostgresNull: Bool { get }

    /// Appends the value, in ``postgresFormat``, to `buffer`.
    func encode(into buffer: inout [UInt8]) throws
}

/// A type whose values always encode.
public protocol PostgresNonThrowingEncodable: PostgresEncodable {
    /// Appends the value, in ``PostgresEncodable/postgresFormat``, to `buffer`.
    func encode(into buffer: inout [UInt8])
}

/// A type that can be an element of an array parameter.
///
/// Elements of an array parameter are sent in the binary format: ``PostgresEncodable/encode(into:)`` must write the
/// binary form of ``postgresArrayElementDataType`` (the UTF-8 text of a `String` is also `text`'s binary form).
public protocol PostgresArrayEncodable: PostgresEncodable {
    /// The type of an array of this type (`int8[]` for `Int`).
    static var postgresArrayDataType: PostgresDataType { get }
    /// The element type recorded in an array of this type. Defaults to ``PostgresEncodable/postgresDataType``.
    static var postgresArrayElementDataType: PostgresDataType { get }
}

extension PostgresEncodable {
    /// Binary.
    public static var postgresFormat: ValueFormat { .binary }

    /// False: only an absent `Optional` is NULL.
    public var isPostgresNull: Bool { false }
}

extension PostgresArrayEncodable {
    /// The element type is the type itself.
    public static var postgresArrayElementDataType: PostgresDataType { postgresDataType }
}

extension PostgresEncodable {
    /// This value as a Transport parameter.
    package func makeParameter() throws -> Parameter {
        try makeParameter { buffer in try encode(into: &buffer) }
    }

    /// This value as a Transport parameter, its bytes written by `encode`.
    func makeParameter<Failure: Error>(
        _ encode: (inout [UInt8]) throws(Failure) -> Void
    ) throws(Failure) -> Parameter {
        let type = Self.postgresDataType.rawValue
        if isPostgresNull { return .null(type: type) }
        if Self.self == String.self {
            return .text(unsafeBitCast(self, to: String.self), type: type)  // Self is String: the same type
        }
        // The library's integers, whose `encode` writes the big-endian value and nothing else, are made inline
        // without the array that encoding would fill: one allocation less for each integer bound. Each test folds
        // away in code specialised for `Self`.
        if Self.self == Int.self {
            return .binary(bigEndianOf: Int64(unsafeBitCast(self, to: Int.self)), type: type)
        }
        if Self.self == Int64.self { return .binary(bigEndianOf: unsafeBitCast(self, to: Int64.self), type: type) }
        if Self.self == Int32.self { return .binary(bigEndianOf: unsafeBitCast(self, to: Int32.self), type: type) }
        if Self.self == Int16.self { return .binary(bigEndianOf: unsafeBitCast(self, to: Int16.self), type: type) }
        var bytes: [UInt8] = []
        try encode(&bytes)
        switch Self.postgresFormat {
        case .binary: return .binary(bytes, type: type)
        case .text: return .text(String(decoding: bytes, as: UTF8.self), type: type)
        }
    }
}

extension PostgresNonThrowingEncodable {
    /// This value as a Transport parameter.
    package func makeParameter() -> Parameter {
        makeParameter { (buffer) throws(Never) in encode(into: &buffer) }
    }
}

extension Array where Element == UInt8 {
    /// Appends an integer in network byte order.
    mutating func appendBigEndian<Value: FixedWidthInteger>(_ value: Value) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}
