internal import Foundation
public import PostgresTransport

/// A `Codable` value stored as JSON: bound as `jsonb`, read from `json` or `jsonb`.
///
/// ```swift
/// try await client.execute("INSERT INTO events (payload) VALUES (\(PostgresJSON(event)))")
/// let rows = try await client.query("SELECT payload FROM events", options: .readOnly)
/// let events = try rows.map { row in try row.decode(PostgresJSON<Event>.self, column: "payload").value }
/// ```
public struct PostgresJSON<Value: Codable & Sendable>: Sendable {
    /// The value.
    public var value: Value

    /// Wraps a value.
    public init(_ value: Value) {
        self.value = value
    }
}

extension PostgresJSON: Equatable where Value: Equatable {}
extension PostgresJSON: Hashable where Value: Hashable {}

extension PostgresJSON: PostgresArrayEncodable {
    /// `jsonb`. A `json` column accepts it too (assignment cast).
    public static var postgresDataType: PostgresDataType { .jsonb }
    /// `jsonb[]`.
    public static var postgresArrayDataType: PostgresDataType { .jsonbArray }

    /// Appends `jsonb`'s binary format: the version byte 1, then the JSON text from `JSONEncoder`.
    ///
    /// - Throws: What `JSONEncoder` throws (a non-finite `Double`, a failing `encode(to:)`).
    public func encode(into buffer: inout [UInt8]) throws {
        buffer.append(1)
        buffer.append(contentsOf: try JSONEncoder().encode(value))
    }
}

extension PostgresJSON: PostgresDecodable {
    /// Reads `json` or `jsonb` in either format (binary `jsonb` starts with version byte 1) with `JSONDecoder`.
    ///
    /// A `JSONDecoder` failure is ``PostgresDecodingError/Code/malformedValue``; its message shows only in
    /// the error's `debugDescription`.
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType, format: ValueFormat)
        throws(PostgresDecodingError)
    {
        var json = bytes
        switch (type, format) {
        case (.jsonb, .binary):
            guard json.first == 1 else { throw .malformed("unknown binary jsonb version") }
            json = UnsafeRawBufferPointer(rebasing: json.dropFirst())
        case (.json, _), (.jsonb, .text): break
        default: throw .typeMismatch(type, format, expected: "json or jsonb")
        }
        do {
            value = try JSONDecoder().decode(Value.self, from: Data(json))
        } catch {
            var failure = PostgresDecodingError(.malformedValue, reason: "JSONDecoder could not decode \(Value.self)")
            failure.debugDetail = "JSONDecoder: \(error)"
            throw failure
        }
    }
}
