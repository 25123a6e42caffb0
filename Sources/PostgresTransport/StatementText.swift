/// What the transport (and a test double standing in for it) needs to know of a statement's text.
package enum StatementText {
    /// Whether the statement ends a transaction with a commit (`COMMIT`, `END`, `COMMIT PREPARED`), so that a
    /// lost answer leaves the outcome unknown and a `ROLLBACK` answer means the transaction had failed.
    package static func isCommit(_ sql: String) -> Bool {
        // Asked of every statement sent: one that starts with a letter other than c or e is ruled out from its first
        // byte, without the substring view the rest of the check walks.
        if let first = sql.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first | 0x20),
            first | 0x20 != UInt8(ascii: "c"), first | 0x20 != UInt8(ascii: "e")
        {
            return false
        }
        let utf8 = trimmingLeadingWhitespace(sql)
        // Asked of every statement sent: the first letter rules out almost all of them at once.
        guard let first = utf8.first.map({ $0 | 0x20 }), first == UInt8(ascii: "c") || first == UInt8(ascii: "e")
        else { return false }
        return startsWithKeyword(utf8, "commit") || startsWithKeyword(utf8, "end")
    }

    /// Whether the statement begins or ends a transaction (`BEGIN`, `START TRANSACTION`, `COMMIT`, `END`,
    /// `ROLLBACK`, `ABORT`, `PREPARE TRANSACTION`), which would split a batch's one transaction in parts.
    ///
    /// Asked of every statement of a batch: the first letter picks the one keyword the statement may start with.
    package static func isTransactionControl(_ sql: String) -> Bool {
        let utf8 = trimmingLeadingWhitespace(sql)
        let keyword: StaticString
        switch utf8.first.map({ $0 | 0x20 }) {
        case UInt8(ascii: "b"): keyword = "begin"
        case UInt8(ascii: "s"): keyword = "start"
        case UInt8(ascii: "c"): keyword = "commit"
        case UInt8(ascii: "e"): keyword = "end"
        case UInt8(ascii: "r"): keyword = "rollback"
        case UInt8(ascii: "a"): keyword = "abort"
        case UInt8(ascii: "p"): return isPrepareTransaction(utf8)
        default: return false
        }
        return startsWithKeyword(utf8, keyword)
    }

    /// Whether the statement should not become a cached named statement: transaction control, and the statements
    /// that drop named statements (`DEALLOCATE`, `DISCARD`).
    static func bypassesStatementCache(_ sql: String) -> Bool {
        let utf8 = trimmingLeadingWhitespace(sql)
        return isTransactionControl(sql) || startsWithKeyword(utf8, "deallocate") || startsWithKeyword(utf8, "discard")
    }

    /// Whether the text is `PREPARE TRANSACTION 'id'`, not the `PREPARE name [(types)] AS ...` of a statement
    /// named `transaction` (not a reserved word).
    private static func isPrepareTransaction(_ utf8: Substring.UTF8View) -> Bool {
        guard startsWithKeyword(utf8, "prepare") else { return false }
        let name = trimmingLeadingWhitespace(utf8.dropFirst(7))
        guard startsWithKeyword(name, "transaction") else { return false }
        let next = trimmingLeadingWhitespace(name.dropFirst(11))
        return next.first != UInt8(ascii: "(") && !startsWithKeyword(next, "as")
    }

    /// The text from its first keyword: leading whitespace and comments (`-- ...` to the end of the line,
    /// `/* ... */`, nested as the server nests them) skipped, as the server skips them.
    private static func trimmingLeadingWhitespace(_ sql: String) -> Substring.UTF8View {
        trimmingLeadingWhitespace(sql.utf8[...])
    }

    /// `text` from its first token: a statement's text, or the rest of it after a keyword.
    private static func trimmingLeadingWhitespace(_ text: Substring.UTF8View) -> Substring.UTF8View {
        var utf8 = text
        let dash = UInt8(ascii: "-"), slash = UInt8(ascii: "/"), star = UInt8(ascii: "*")
        while let first = utf8.first {
            if first == UInt8(ascii: " ") || (9...13).contains(first) {
                utf8 = utf8.dropFirst()
            } else if first == dash, utf8.dropFirst().first == dash {
                utf8 = utf8.drop { $0 != UInt8(ascii: "\n") }
            } else if first == slash, utf8.dropFirst().first == star {
                utf8 = utf8.dropFirst(2)
                var depth = 1
                while depth > 0, let byte = utf8.first {
                    let next = utf8.dropFirst().first
                    if byte == star, next == slash {
                        depth -= 1
                        utf8 = utf8.dropFirst(2)
                    } else if byte == slash, next == star {
                        depth += 1
                        utf8 = utf8.dropFirst(2)
                    } else {
                        utf8 = utf8.dropFirst()
                    }
                }
            } else {
                break
            }
        }
        return utf8
    }

    private static func startsWithKeyword(_ text: Substring.UTF8View, _ keyword: StaticString) -> Bool {
        let keywordBytes = UnsafeBufferPointer(start: keyword.utf8Start, count: keyword.utf8CodeUnitCount)
        // Bounds checked byte by byte: the count of a substring's UTF-8 view is a walk of its own.
        var index = text.startIndex
        for expected in keywordBytes {
            // ASCII case-insensitive comparison.
            guard index < text.endIndex, text[index] | 0x20 == expected else { return false }
            index = text.index(after: index)
        }
        guard index < text.endIndex else { return true }
        // The keyword ends where an identifier could not go on: letters, digits, `_`, `$` and every byte of a
        // non-ASCII character continue one.
        let next = text[index]
        return !(next | 0x20 >= UInt8(ascii: "a") && next | 0x20 <= UInt8(ascii: "z")) && next != UInt8(ascii: "_")
            && !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(next) && next != UInt8(ascii: "$") && next < 0x80
    }
}
