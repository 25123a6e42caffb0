import ResilientPostgres

/// An amount of money in cents, stored in a `bigint` column.
///
/// Its own type rather than an `Int`, so that an amount is never mixed up with a count or an id; bound and read as
/// the `Int64` it wraps.
public struct Cents: Hashable, Comparable, Sendable {
    public var value: Int64

    public init(_ value: Int64) {
        self.value = value
    }

    public static func < (lhs: Cents, rhs: Cents) -> Bool { lhs.value < rhs.value }
    public static func + (lhs: Cents, rhs: Cents) -> Cents { Cents(lhs.value + rhs.value) }
    public static func - (lhs: Cents, rhs: Cents) -> Cents { Cents(lhs.value - rhs.value) }
}

extension Cents: PostgresNonThrowingEncodable {
    /// `bigint`.
    public static var postgresDataType: PostgresDataType { .int8 }

    /// Binary, as `Int64` writes it.
    public static var postgresFormat: ValueFormat { .binary }

    public func encode(into buffer: inout [UInt8]) {
        value.encode(into: &buffer)
    }
}

extension Cents: PostgresDecodable {
    /// Reads an integer column (`smallint`, `integer`, `bigint`); `numeric` is refused rather than rounded.
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType, format: ValueFormat)
        throws(PostgresDecodingError)
    {
        guard type == .int2 || type == .int4 || type == .int8 else {
            throw PostgresDecodingError(.typeMismatch, reason: "an amount in cents is stored as an integer")
        }
        self.init(try Int64(postgresBytes: bytes, type: type, format: format))
    }
}

extension Cents: CustomStringConvertible {
    /// `12.34`, `-0.05`.
    public var description: String {
        let units = value.magnitude / 100
        let cents = value.magnitude % 100
        return "\(value < 0 ? "-" : "")\(units).\(cents < 10 ? "0" : "")\(cents)"
    }
}
