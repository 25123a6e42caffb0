/// One `COPY ... FROM STDIN` a ``ScriptedDatabase`` received: its statement, the data that reached it, and whether
/// the data was all sent and answered.
///
/// A COPY inside a transaction block that was later rolled back is recorded all the same, as its statement is: the
/// records say what reached the database, not what it kept.
public struct RecordedCopy: Sendable, CustomStringConvertible {
    /// The `COPY` statement.
    public let statement: RecordedStatement
    /// The COPY data received, in the order it was sent: all of it when ``isComplete``, what came before the
    /// failure otherwise.
    public internal(set) var data: [UInt8] = []
    /// Whether the end of the data was received and the COPY answered (`COPY n`).
    public internal(set) var isComplete = false

    init(statement: RecordedStatement) {
        self.statement = statement
    }

    /// The data as UTF-8 text, for a COPY in text or CSV format.
    public var text: String { String(decoding: data, as: UTF8.self) }

    /// The rows received: the data's tuples in binary format (which starts with the `PGCOPY` signature), its lines
    /// otherwise (a CSV value with a line break in it counts twice).
    public var rowCount: Int {
        Self.binaryRowCount(data) ?? data.lazy.filter { $0 == UInt8(ascii: "\n") }.count
    }

    /// The statement, the size of the data, and whether it was complete.
    public var description: String {
        "\(statement.sql): \(data.count) bytes, \(rowCount) rows\(isComplete ? "" : ", incomplete")"
    }

    static let binarySignature: [UInt8] = [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00]

    /// The tuples of binary COPY data, counted up to its trailer or its end; nil when the data is not binary.
    static func binaryRowCount(_ data: [UInt8]) -> Int? {
        guard data.starts(with: binarySignature), data.count >= 19 else { return nil }
        func integer(at offset: Int, size: Int) -> Int? {
            guard offset + size <= data.count else { return nil }
            var value: UInt32 = 0
            for byte in data[offset..<offset + size] { value = value << 8 | UInt32(byte) }
            return size == 2 ? Int(Int16(truncatingIfNeeded: value)) : Int(Int32(bitPattern: value))
        }
        // The signature, the flags, then the header extension, whose length comes first.
        var offset = 15
        guard let extensionLength = integer(at: offset, size: 4) else { return nil }
        offset += 4 + extensionLength
        var rows = 0
        while let fields = integer(at: offset, size: 2), fields >= 0 {
            offset += 2
            for _ in 0..<fields {
                guard let length = integer(at: offset, size: 4) else { return rows }
                offset += 4 + max(length, 0)
            }
            guard offset <= data.count else { return rows }
            rows += 1
        }
        return rows
    }
}
