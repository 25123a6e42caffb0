/// Parsing of a one-dimensional array in PostgreSQL's text format: `{1,2,NULL,"a \"b\""}`.
enum PostgresArrayText {
    private static let openBrace = UInt8(ascii: "{")
    private static let closeBrace = UInt8(ascii: "}")
    private static let quote = UInt8(ascii: "\"")
    private static let backslash = UInt8(ascii: "\\")
    private static let comma = UInt8(ascii: ",")

    /// The elements, each decoded from its text by `Element`.
    static func decode<Element: PostgresDecodable>(
        _ text: UnsafeRawBufferPointer, elementType: PostgresDataType
    ) throws(PostgresDecodingError) -> [Element] {
        var index = 0
        // A lower bound other than 1 is written as a prefix: `[0:2]={...}`.
        if text.first == UInt8(ascii: "[") {
            guard let equals = text.firstIndex(of: UInt8(ascii: "=")) else { throw .malformed("not an array") }
            index = equals + 1
        }
        guard index < text.count, text[index] == openBrace else { throw .malformed("not an array") }
        index += 1
        var elements: [Element] = []
        if index < text.count, text[index] == closeBrace {
            index += 1
            guard index == text.count else { throw .malformed("unexpected text after array") }
            return elements
        }
        var unescaped: [UInt8] = []
        while true {
            guard index < text.count else { throw .malformed("unterminated array") }
            if text[index] == openBrace {
                throw PostgresDecodingError(.unsupportedShape, reason: "a multi-dimensional array; only 1 is read")
            }
            let position = elements.count
            if text[index] == quote {
                index += 1
                unescaped.removeAll(keepingCapacity: true)
                while true {
                    guard index < text.count else { throw .malformed("unterminated array element") }
                    let byte = text[index]
                    if byte == quote { break }
                    if byte == backslash {
                        index += 1
                        guard index < text.count else { throw .malformed("unterminated array element") }
                    }
                    unescaped.append(text[index])
                    index += 1
                }
                index += 1
                elements.append(try decodeCopied(unescaped, elementType: elementType, index: position))
            } else {
                let start = index
                var hasEscape = false
                while index < text.count, text[index] != comma, text[index] != closeBrace {
                    if text[index] == backslash { hasEscape = true; index += 1 }
                    index += 1
                }
                guard index <= text.count else { throw .malformed("unterminated array element") }
                let raw = UnsafeRawBufferPointer(rebasing: text[start..<index])
                if !hasEscape, raw.count == 4, raw.elementsEqual("null".utf8, by: { $0 | 0x20 == $1 }) {
                    elements.append(try [Element].decodeElement(nil, type: elementType, format: .text, index: position))
                } else if hasEscape {
                    unescaped.removeAll(keepingCapacity: true)
                    var cursor = raw.startIndex
                    while cursor < raw.endIndex {
                        if raw[cursor] == backslash { cursor += 1 }
                        if cursor < raw.endIndex { unescaped.append(raw[cursor]) }
                        cursor += 1
                    }
                    elements.append(try decodeCopied(unescaped, elementType: elementType, index: position))
                } else {
                    elements.append(try [Element].decodeElement(raw, type: elementType, format: .text, index: position))
                }
            }
            guard index < text.count else { throw .malformed("unterminated array") }
            if text[index] == comma {
                index += 1
                continue
            }
            guard text[index] == closeBrace, index + 1 == text.count else { throw .malformed("not an array") }
            return elements
        }
    }

    /// An element whose escapes were removed into a buffer of its own.
    private static func decodeCopied<Element: PostgresDecodable>(
        _ bytes: [UInt8], elementType: PostgresDataType, index: Int
    ) throws(PostgresDecodingError) -> Element {
        try bytes.withUnsafeBytes { bytes in
            Result { () throws(PostgresDecodingError) in
                try [Element].decodeElement(bytes, type: elementType, format: .text, index: index)
            }
        }.get()
    }
}
