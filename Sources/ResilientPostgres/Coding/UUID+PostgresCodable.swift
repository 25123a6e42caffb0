public import Foundation
public import PostgresTransport

/// `uuid`, bound in binary.
extension UUID: PostgresNonThrowingEncodable, PostgresArrayEncodable, PostgresDecodable {
    /// `uuid`.
    public static var postgresDataType: PostgresDataType { .uuid }
    /// `uuid[]`.
    public static var postgresArrayDataType: PostgresDataType { .uuidArray }
    /// Appends the 16 bytes.
    public func encode(into buffer: inout [UInt8]) {
        withUnsafeBytes(of: uuid) { buffer.append(contentsOf: $0) }
    }

    /// Reads `uuid`: 16 bytes in binary, `8-4-4-4-12` hex digits in text.
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType, format: ValueFormat)
        throws(PostgresDecodingError)
    {
        guard type == .uuid else { throw .typeMismatch(type, format, expected: "uuid") }
        switch format {
        case .binary:
            guard bytes.count == 16 else { throw .malformed("a binary uuid has 16 bytes") }
            self = UUID(uuid: bytes.loadUnaligned(as: uuid_t.self))
        case .text:
            guard let value = Self.parse(bytes) else { throw .malformed("not a valid uuid") }
            self = value
        }
    }

    private static func parse(_ text: UnsafeRawBufferPointer) -> UUID? {
        guard text.count == 36 else { return nil }
        var value: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let parsed = withUnsafeMutableBytes(of: &value) { out -> Bool in
            var index = 0
            for position in 0..<16 {
                if index == 8 || index == 13 || index == 18 || index == 23 {
                    guard text[index] == UInt8(ascii: "-") else { return false }
                    index += 1
                }
                guard let high = PostgresTextScanner.hexValue(text[index]),
                    let low = PostgresTextScanner.hexValue(text[index + 1])
                else { return false }
                out[position] = high << 4 | low
                index += 2
            }
            return true
        }
        return parsed ? UUID(uuid: value) : nil
    }
}
