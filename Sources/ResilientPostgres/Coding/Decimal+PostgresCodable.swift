public import Foundation
public import PostgresTransport

/// `numeric`, bound in binary (base-10000 digits), exactly.
///
/// `Decimal.nan` is sent as numeric `NaN`.
extension Decimal: PostgresNonThrowingEncodable, PostgresArrayEncodable, PostgresDecodable {
    /// `numeric`.
    public static var postgresDataType: PostgresDataType { .numeric }
    /// `numeric[]`.
    public static var postgresArrayDataType: PostgresDataType { .numericArray }

    /// Appends the value in `numeric`'s binary format.
    public func encode(into buffer: inout [UInt8]) {
        PostgresNumeric(self).encode(into: &buffer)
    }

    /// Reads `numeric` (binary or text), or an integer column.
    ///
    /// Throws ``PostgresDecodingError/Code/unrepresentable`` for `NaN`, `Infinity`, and values with more significant
    /// digits (38) or a larger exponent than `Decimal` holds, rather than rounding them.
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType, format: ValueFormat)
        throws(PostgresDecodingError)
    {
        switch (type, format) {
        case (.numeric, .binary): self = try PostgresNumeric.decodeBinary(bytes).decimal()
        case (.numeric, .text): self = try PostgresNumeric.decodeText(bytes).decimal()
        case (.int2, _), (.int4, _), (.int8, _):
            self = Decimal(try Int64(postgresBytes: bytes, type: type, format: format))
        default: throw .typeMismatch(type, format, expected: "numeric or an integer type")
        }
    }
}
