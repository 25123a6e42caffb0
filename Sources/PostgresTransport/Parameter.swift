/// A PostgreSQL type OID, as `pg_type.oid` has it (23 for `int4`, 25 for `text`); 0 lets the server infer the type.
public typealias PostgresOID = UInt32

/// One bound parameter of a statement: SQL NULL, a text value, or a binary value in PostgreSQL's wire format.
///
/// Parameters are always sent separately from the SQL text (`PQsendQueryParams`), never spliced into it.
public struct Parameter: Sendable, Hashable {
    enum Value: Sendable, Hashable {
        case null
        case text(String)
        case binary([UInt8])
    }

    let value: Value
    /// The parameter's type OID; 0 lets the server infer it from the statement.
    public let type: PostgresOID

    /// SQL NULL, of the given type (0: inferred).
    public static func null(type: PostgresOID = 0) -> Parameter { Parameter(value: .null, type: type) }

    /// A value in PostgreSQL's text format (`'42'`, `'2024-01-31'`, `'t'`).
    ///
    /// A text value cannot contain a NUL byte: such a statement fails with ``TransportError/Code/invalidParameter``
    /// before anything is sent (libpq would silently truncate the value at the NUL).
    public static func text(_ value: String, type: PostgresOID = 0) -> Parameter {
        Parameter(value: .text(value), type: type)
    }

    /// A value in PostgreSQL's binary wire format (big-endian integers, raw `bytea` bytes), of the given type.
    public static func binary(_ bytes: [UInt8], type: PostgresOID) -> Parameter {
        Parameter(value: .binary(bytes), type: type)
    }

    /// True for SQL NULL.
    public var isNull: Bool { value == .null }
}

extension Parameter: CustomStringConvertible {
    /// Redacted: says the kind and type of the value, never the value itself.
    public var description: String {
        switch value {
        case .null: "Parameter(NULL, type: \(type))"
        case .text: "Parameter(text, type: \(type))"
        case .binary(let bytes): "Parameter(binary, \(bytes.count) bytes, type: \(type))"
        }
    }
}
