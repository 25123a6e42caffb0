import Foundation
import PostgresTransport
import ResilientPostgres

/// libFuzzer's entry point: decodes arbitrary bytes as every supported Swift type, from a PostgreSQL type and wire
/// format chosen by the input.
///
/// Input layout: byte 0 picks the Swift type, byte 1 the column's PostgreSQL type, bit 0 of byte 2 the format
/// (0 text, 1 binary); the rest is the value's bytes. Decoding must succeed or throw a `PostgresDecodingError` with a
/// reason; a crash or a hang is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecoding(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard size >= 3, let data else { return 0 }
    let decoder = DecodingCase.decoders[Int(data[0]) % DecodingCase.decoders.count]
    let type = DecodingCase.type(selector: data[1])
    let format: ValueFormat = data[2] & 1 == 1 ? .binary : .text
    let payload = UnsafeRawBufferPointer(start: data + 3, count: size - 3)
    decoder(payload, type, format)
    return 0
}

enum DecodingCase {
    typealias Decoder = @Sendable (UnsafeRawBufferPointer, PostgresDataType, ValueFormat) -> Void

    /// Every built-in type the library names, then a few it does not; selectors past the end pick an arbitrary OID.
    static let types: [PostgresDataType] = [
        .unspecified, .bool, .bytea, .char, .name, .int8, .int2, .int4, .text, .oid, .json, .xml, .float4, .float8,
        .unknown, .money, .bpchar, .varchar, .date, .time, .timestamp, .timestamptz, .interval, .numeric, .uuid,
        .jsonb, .boolArray, .byteaArray, .charArray, .nameArray, .int2Array, .int4Array, .textArray, .bpcharArray,
        .varcharArray, .int8Array, .float4Array, .float8Array, .oidArray, .timestampArray, .dateArray,
        .timestamptzArray, .numericArray, .uuidArray, .jsonArray, .jsonbArray,
    ]

    static func type(selector: UInt8) -> PostgresDataType {
        let index = Int(selector)
        return index < types.count ? types[index] : PostgresDataType(UInt32(index) &* 2_654_435_761 >> 16)
    }

    static let decoders: [Decoder] = [
        decoder(Bool.self), decoder(Int16.self), decoder(Int32.self), decoder(Int64.self), decoder(Int.self),
        decoder(UInt8.self), decoder(Float.self), decoder(Double.self), decoder(String.self), decoder([UInt8].self),
        decoder(Data.self), decoder(UUID.self), decoder(Date.self), decoder(Decimal.self),
        decoder(PostgresJSON<JSONValue>.self), decoder(Int?.self),
        decoder([Bool].self), decoder([Int16?].self), decoder([Int32].self), decoder([Int].self),
        decoder([Float?].self), decoder([Double].self), decoder([String?].self), decoder([Data].self),
        decoder([[UInt8]?].self), decoder([UUID?].self), decoder([Date].self), decoder([Decimal?].self),
        decoder([PostgresJSON<JSONValue>].self), decoder([[Int]].self),
    ]

    static func decoder<T: PostgresDecodable & SendableMetatype>(_: T.Type) -> Decoder {
        { bytes, type, format in
            do throws(PostgresDecodingError) {
                _ = try T(postgresBytes: bytes, type: type, format: format)
            } catch {
                precondition(!error.reason.isEmpty, "a decoding error must say why: \(error)")
                _ = error.description
            }
        }
    }
}

/// Any JSON value, so that the decoder reads whatever the bytes hold.
indirect enum JSONValue: Codable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
