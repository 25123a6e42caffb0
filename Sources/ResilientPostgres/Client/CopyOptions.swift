/// What a COPY statement says about the shape of its data: its format, its CSV `QUOTE` and `ESCAPE` characters,
/// and whether its first line is a header.
///
/// Only the options after `STDIN` or `STDOUT`, up to a `WHERE`, are read, and the format comes only from the
/// `FORMAT` option's value or the older bare `BINARY` and `CSV` keywords, never from a string literal (`NULL 'csv'`)
/// or a name. Literals are read as the server reads them: `'it''s'`, `E'\\'`, with or without `AS` before them.
struct CopyOptions {
    var format: CopyRowCounter.Format = .text
    var header = false

    init(statement: String) {
        let tokens = Self.tokens(Array(statement.utf8))
        let start = tokens.lastIndex { $0 == .word("stdin") || $0 == .word("stdout") }.map { $0 + 1 } ?? tokens.count
        let end = tokens[start...].firstIndex(of: .word("where")) ?? tokens.count
        let options = Array(tokens[start..<end])
        var isCSV = false, isBinary = false
        var quote: UInt8?, escape: UInt8?
        var index = 0
        while index < options.count {
            defer { index += 1 }
            guard case .word(let word) = options[index] else { continue }
            let next = index + 1 < options.count ? options[index + 1] : nil
            switch word {
            case "format":
                guard let value = next?.text else { continue }
                isCSV = value == "csv"
                isBinary = value == "binary"
                index += 1
            case "csv":
                isCSV = true
            case "binary":
                isBinary = true
            case "header":
                header = true
                guard let value = next?.text else { continue }
                if ["true", "on", "1", "match"].contains(value) {
                    index += 1
                } else if ["false", "off", "0"].contains(value) {
                    header = false
                    index += 1
                }
            case "quote", "escape":
                var valueIndex = index + 1
                if next == .word("as") { valueIndex += 1 }
                guard valueIndex < options.count, case .literal(let value) = options[valueIndex],
                      let character = value.first else { continue }
                if word == "quote" { quote = character } else { escape = character }
                index = valueIndex
            default:
                continue
            }
        }
        if isBinary {
            format = .binary
        } else if isCSV {
            let quote = quote ?? UInt8(ascii: "\"")
            format = .csv(quote: quote, escape: escape ?? quote)
        }
    }

    /// Whether `statement` is a `COPY ... FROM STDIN`, which applies nothing before the end of its data.
    static func readsStandardInput(_ statement: String) -> Bool {
        let tokens = tokens(Array(statement.utf8))
        return zip(tokens, tokens.dropFirst()).contains { $0 == .word("from") && $1 == .word("stdin") }
    }

    /// A word (a keyword, name or number, lowercased), a string literal (its value), a quoted name, or a symbol.
    enum Token: Equatable {
        case word(String)
        case literal([UInt8])
        case quotedName
        case symbol

        /// A word's text, or a literal's, for option values written either way (`FORMAT csv`, `FORMAT 'csv'`).
        var text: String? {
            switch self {
            case .word(let word): word
            case .literal(let value): String(decoding: value, as: UTF8.self).lowercased()
            case .quotedName, .symbol: nil
            }
        }
    }

    static func tokens(_ bytes: [UInt8]) -> [Token] {
        let quote = UInt8(ascii: "'"), doubleQuote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        var tokens: [Token] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            let startsEscapedLiteral = byte | 0x20 == UInt8(ascii: "e") && index + 1 < bytes.count
                && bytes[index + 1] == quote && (index == 0 || !isWordByte(bytes[index - 1]))
            if byte == quote || startsEscapedLiteral {
                // A literal: `''` is a quote; in an `E'...'` literal a backslash escapes the byte after it.
                let escapes = byte != quote
                index += escapes ? 2 : 1
                var value: [UInt8] = []
                while index < bytes.count {
                    let current = bytes[index]
                    if escapes, current == backslash, index + 1 < bytes.count {
                        value.append(unescaped(bytes[index + 1]))
                        index += 2
                    } else if current == quote {
                        guard index + 1 < bytes.count, bytes[index + 1] == quote else { break }
                        value.append(quote)
                        index += 2
                    } else {
                        value.append(current)
                        index += 1
                    }
                }
                index += 1
                tokens.append(.literal(value))
            } else if byte == doubleQuote {
                index += 1
                while index < bytes.count {
                    if bytes[index] == doubleQuote {
                        guard index + 1 < bytes.count, bytes[index + 1] == doubleQuote else { break }
                        index += 1
                    }
                    index += 1
                }
                index += 1
                tokens.append(.quotedName)
            } else if isWordByte(byte) {
                let start = index
                while index < bytes.count, isWordByte(bytes[index]) { index += 1 }
                tokens.append(.word(String(decoding: bytes[start..<index], as: UTF8.self).lowercased()))
            } else {
                if byte > UInt8(ascii: " ") { tokens.append(.symbol) }
                index += 1
            }
        }
        return tokens
    }

    /// The byte a backslash escape in an `E'...'` literal stands for.
    private static func unescaped(_ byte: UInt8) -> UInt8 {
        switch byte {
        case UInt8(ascii: "n"): UInt8(ascii: "\n")
        case UInt8(ascii: "t"): UInt8(ascii: "\t")
        case UInt8(ascii: "r"): UInt8(ascii: "\r")
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "f"): 0x0C
        default: byte
        }
    }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") || byte == UInt8(ascii: "_")
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "$") || byte >= 0x80
    }
}
