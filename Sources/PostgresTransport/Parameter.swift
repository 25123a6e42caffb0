/// A PostgreSQL type OID, as `pg_type.oid` has it (23 for `int4`, 25 for `text`); 0 lets the server infer the type.
public typealias PostgresOID = UInt32

/// One bound parameter of a statement: SQL NULL, a text value, or a binary value in PostgreSQL's wire format.
///
/// Parameters are always sent separately from the SQL text (`PQsendQueryParams`), never spliced into it.
public struct Parameter: Sendable, Hashable {
    enum Value: Sendable, Hashable {
        case null
        case text(String)
        /// A binary value of more than ``Parameter/inlineCapacity`` bytes.
        case binary([UInt8])
        /// A binary value of at most ``Parameter/inlineCapacity`` bytes (an integer, a float, a timestamp), kept
        /// inline, in memory order, so that a statement bound to it does not hold an array of its own (a large batch
        /// holds one per statement). ``Parameter/binary(_:type:)`` alone makes binary values and always stores one
        /// this small this way, so that equal values have equal representations.
        case inlineBinary(UInt64, count: UInt8)
    }

    /// The most bytes a binary value keeps inline.
    static let inlineCapacity = MemoryLayout<UInt64>.size

    let value: Value
    /// The parameter's type OID; 0 lets the server infer it from the statement.
    public let type: PostgresOID

    /// Private, so that the factories below are the only makers of values, and a binary value of at most
    /// ``inlineCapacity`` bytes is always inline, which equality and hashing rely on.
    private init(value: Value, type: PostgresOID) {
        self.value = value
        self.type = type
    }

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
        guard bytes.count <= inlineCapacity else { return Parameter(value: .binary(bytes), type: type) }
        var storage: UInt64 = 0
        withUnsafeMutableBytes(of: &storage) { $0.copyBytes(from: bytes) }
        return Parameter(value: .inlineBinary(storage, count: UInt8(bytes.count)), type: type)
    }

    /// A fixed-width integer in PostgreSQL's binary format (big-endian), of at most ``inlineCapacity`` bytes: the
    /// same parameter as ``binary(_:type:)`` of its bytes, made without an array of them.
    package static func binary<Integer: FixedWidthInteger>(bigEndianOf value: Integer, type: PostgresOID) -> Parameter {
        let count = MemoryLayout<Integer>.size
        precondition(count <= inlineCapacity, "an integer of more than \(inlineCapacity) bytes")
        var storage: UInt64 = 0
        withUnsafeMutableBytes(of: &storage) { storage in
            withUnsafeBytes(of: value.bigEndian) { storage.copyMemory(from: $0) }
        }
        return Parameter(value: .inlineBinary(storage, count: UInt8(count)), type: type)
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
        case .inlineBinary(_, let count): "Parameter(binary, \(count) bytes, type: \(type))"
        }
    }
}
