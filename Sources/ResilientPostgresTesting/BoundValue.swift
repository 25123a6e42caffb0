public import ResilientPostgres
import PostgresTransport

/// One parameter a statement bound, as a test double received it: decode it to check what the code under test sent.
///
/// ```swift
/// let insert = database.statements(matching: "INSERT INTO payments").last!
/// #expect(try insert.parameters[0].decode(String.self) == "order-42")
/// ```
/// The description says the type and size only, never the value.
public struct BoundValue: Sendable, Hashable, CustomStringConvertible {
    /// The type the parameter was declared as; `PostgresDataType.unspecified` when the server was to infer it
    /// (as for a `String`).
    public let type: PostgresDataType
    let format: ValueFormat?
    let bytes: [UInt8]?

    init(_ parameter: Parameter) {
        self.type = PostgresDataType(parameter.type)
        self.format = parameter.format
        self.bytes = parameter.bytes
    }

    /// Whether the parameter is SQL NULL.
    public var isNull: Bool { bytes == nil }

    /// Decodes the value as the server would read it: `Int`, `String`, `UUID`, `Date`, an `Optional` for NULL, ...
    ///
    /// - Throws: `PostgresDecodingError` when the value does not decode as `T`.
    public func decode<T: PostgresDecodable>(_: T.Type = T.self) throws(PostgresDecodingError) -> T {
        guard let bytes, let format else { return try T.decodePostgresNull(type: type) }
        // A parameter the server was to type is read as text, which every type's text form decodes from.
        let type = type == .unspecified ? PostgresDataType.text : type
        let decoded = bytes.withUnsafeBytes { buffer in
            Result { () throws(PostgresDecodingError) in try T(postgresBytes: buffer, type: type, format: format) }
        }
        return try decoded.get()
    }

    /// The parameter's type and size, never its value.
    public var description: String {
        guard let bytes else { return "NULL (\(type))" }
        return "\(type), \(bytes.count) bytes"
    }
}
