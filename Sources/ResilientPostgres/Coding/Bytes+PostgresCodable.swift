public import Foundation
public import PostgresTransport

/// `bytea`, bound in binary.
extension Data: PostgresNonThrowingEncodable, PostgresArrayEncodable, PostgresDecodable {
    /// `bytea`.
    public static var postgresDataType: PostgresDataType { .bytea }
    /// `bytea[]`.
    public static var postgresArrayDataType: PostgresDataType { .byteaArray }
    /// Appends the bytes.
    public func encode(into buffer: inout [UInt8]) { buffer.append(contentsOf: self) }

    /// Reads `bytea`: raw in binary; hex (`\x0a1b`) or the older escape format in text.
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresDataType, format: ValueFormat)
        throws(PostgresDecodingError)
    {
        guard type == .bytea else { throw .typeMismatch(type, format, expected: "bytea") }
        switch format {
        case .binary: self = Data(bytes)
        case .text: self = Data(try PostgresByteaText.decode(bytes))
        }
    }
}

/// Decoding of `bytea` in the text format.
enum PostgresByteaText {
    /// The bytes of a `bytea` text value, hex (`\x…`) or escape format.
    static func decode(_ text: UnsafeRawBufferPointer) throws(PostgresDecodingError) -> [UInt8] {
        if text.count >= 2, text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x") {
            return try decodeHex(UnsafeRawBufferPointer(rebasing: text.dropFirst(2)))
        }
        return try decodeEscaped(text)
    }

    private static func decodeHex(_ hex: UnsafeRawBufferPointer) throws(PostgresDecodingError) -> [UInt8] {
        guard hex.count.isMultiple(of: 2) else { throw .malformed("odd number of hex digits in bytea") }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.count / 2)
        var index = 0
        while index < hex.count {
            guard let high = PostgresTextScanner.hexValue(hex[index]),
                let low = PostgresTextScanner.hexValue(hex[index + 1])
            else { throw .malformed("invalid hex digit in bytea") }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func decodeEscaped(_ text: UnsafeRawBufferPointer) throws(PostgresDecodingError) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            let byte = text[index]
            guard byte == UInt8(ascii: "\\") else {
                bytes.append(byte)
                index += 1
                continue
            }
            if index + 1 < text.count, text[index + 1] == UInt8(ascii: "\\") {
                bytes.append(byte)
                index += 2
                continue
            }
            guard index + 3 < text.count, let octal = octalByte(text, at: index + 1) else {
                throw .malformed("invalid escape in bytea")
            }
            bytes.append(octal)
            index += 4
        }
        return bytes
    }

    private static func octalByte(_ text: UnsafeRawBufferPointer, at offset: Int) -> UInt8? {
        var value = 0
        for index in offset..<(offset + 3) {
            let digit = Int(text[index]) - Int(UInt8(ascii: "0"))
            guard (0...7).contains(digit) else { return nil }
            value = value * 8 + digit
        }
        return value <= 255 ? UInt8(value) : nil
    }
}
