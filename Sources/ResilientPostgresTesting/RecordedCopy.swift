import ResilientPostgres

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

    /// The rows received, told apart as the statement's `FORMAT` says: the tuples in binary format, the lines
    /// that unescaped newlines end in text, the newlines outside quotes in CSV (a value with a line break in it is
    /// one row). A last line without a newline counts; the end marker `\.` does not.
    public var rowCount: Int {
        var counter = CopyRowCounter(statement: statement.sql)
        counter.count(data)
        counter.finish()
        return counter.rows
    }

    /// The statement, the size of the data, and whether it was complete.
    public var description: String {
        "\(statement.sql): \(data.count) bytes, \(rowCount) rows\(isComplete ? "" : ", incomplete")"
    }
}
