/// What a command tag's first word says about the session.
///
/// Read from the tag's UTF-8 bytes, its first letter first, rather than by matching the word, a `Substring`, against a
/// dozen string literals compared as Unicode text: every statement of a transaction reads its tag.
package enum SessionCommand: Equatable, Sendable {
    /// `BEGIN`, `START TRANSACTION`.
    case begin
    /// `COMMIT`, `END` and `COMMIT PREPARED` alike.
    case commit
    case rollback
    /// `PREPARE`: a named statement prepared.
    case prepare
    /// `PREPARE TRANSACTION`: the block's work is kept for a later `COMMIT PREPARED`, and the block ended.
    case prepareTransaction
    /// `SET`, `SHOW`, `RESET`, `DEALLOCATE`, `DISCARD`, `LISTEN`, `UNLISTEN`, `SAVEPOINT`, `RELEASE`, or no tag.
    case changesNoData
    /// Anything else (`INSERT`, `SELECT`, ...): outside a block, it committed as it ended.
    case other

    /// The command of a tag given as its UTF-8 bytes (a `QueryResult`'s, read in place).
    package init(utf8: UnsafeBufferPointer<UInt8>) {
        // Whether the tag's first word is `keyword`: the tag starts with it, followed by a space or nothing.
        func matches(_ keyword: StaticString) -> Bool {
            let bytes = UnsafeBufferPointer(start: keyword.utf8Start, count: keyword.utf8CodeUnitCount)
            guard utf8.starts(with: bytes) else { return false }
            let next = utf8.dropFirst(bytes.count).first
            return next == nil || next == UInt8(ascii: " ")
        }
        switch utf8.first {
        case nil, UInt8(ascii: " "): self = .changesNoData  // no first word
        case UInt8(ascii: "B"): self = matches("BEGIN") ? .begin : .other
        case UInt8(ascii: "S"):
            let changesNoData = matches("SET") || matches("SHOW") || matches("SAVEPOINT")
            self = matches("START") ? .begin : changesNoData ? .changesNoData : .other
        case UInt8(ascii: "C"): self = matches("COMMIT") ? .commit : .other
        case UInt8(ascii: "R"):
            self = matches("ROLLBACK") ? .rollback : matches("RESET") || matches("RELEASE") ? .changesNoData : .other
        case UInt8(ascii: "P"):
            let isTransaction = utf8.elementsEqual("PREPARE TRANSACTION".utf8)
            self = isTransaction ? .prepareTransaction : matches("PREPARE") ? .prepare : .other
        case UInt8(ascii: "D"): self = matches("DEALLOCATE") || matches("DISCARD") ? .changesNoData : .other
        case UInt8(ascii: "L"): self = matches("LISTEN") ? .changesNoData : .other
        case UInt8(ascii: "U"): self = matches("UNLISTEN") ? .changesNoData : .other
        default: self = .other
        }
    }
}
