import PostgresTransport
import Testing

/// A small result of a batch is copied out of libpq's into one block of its own, and shares its column list with
/// the batch's result before when the columns are the same; each still reads its own values and columns.
@Suite("Copied results")
struct CopiedResultTests {
    static let integer = QueryResult.Column(name: "n", type: 20, format: .binary)
    static let text = QueryResult.Column(name: "n", type: 25, format: .text)

    static func integerValue(_ value: Int64) -> [UInt8]? { withUnsafeBytes(of: value.bigEndian) { Array($0) } }

    @Test func cellsAndBytesShareOneBlock() throws {
        let rows: [[[UInt8]?]] = [[Self.integerValue(7), nil, [0x61, 0x62]], [Self.integerValue(8), [], [0x63]]]
        let columns = [Self.integer, QueryResult.Column(name: "e", type: 25, format: .text), Self.text]
        let result = try #require(QueryResult.makeCopied(columns: columns, rows: rows, after: nil))
        for row in 0..<2 {
            for column in 0..<3 {
                #expect(result.value(row: row, column: column).bytes.map(Array.init) == rows[row][column])
            }
        }
        let cells = try #require(result.copiedCellsAddress)
        let firstBytes = try #require(result.value(row: 0, column: 0).bytes?.baseAddress)
        #expect(firstBytes == cells + 6 * 8)
    }

    @Test func aResultSharesTheColumnsOfTheOneBeforeWhenTheyAreTheSame() throws {
        let one: [[[UInt8]?]] = [[Self.integerValue(1)]]
        let first = try #require(QueryResult.makeCopied(columns: [Self.integer], rows: one, after: nil))
        let same = try #require(
            QueryResult.makeCopied(columns: [Self.integer], rows: [[Self.integerValue(2)]], after: first)
        )
        #expect(Self.address(of: same.copiedColumns) == Self.address(of: first.copiedColumns))

        let otherType = try #require(QueryResult.makeCopied(columns: [Self.text], rows: [[[0x61]]], after: same))
        #expect(otherType.columnType(0) == 25)
        #expect(otherType.columnFormat(0) == .text)
        let renamed = QueryResult.Column(name: "m", type: 25, format: .text)
        let otherName = try #require(QueryResult.makeCopied(columns: [renamed], rows: [[[0x61]]], after: otherType))
        #expect(otherName.columnName(0) == "m")
        #expect(otherName.columnIndex(named: "n") == nil)
        let binary = QueryResult.Column(name: "m", type: 25, format: .binary)
        let otherFormat = try #require(QueryResult.makeCopied(columns: [binary], rows: [[[0x61]]], after: otherName))
        #expect(otherFormat.columnFormat(0) == .binary)
        let wider = try #require(
            QueryResult.makeCopied(columns: [binary, Self.text], rows: [[[0x61], [0x62]]], after: otherFormat)
        )
        #expect(wider.columnCount == 2)
        #expect(wider.value(row: 0, column: 1).bytes.map(Array.init) == [0x62])
    }

    @Test func aLargeResultIsNotCopied() {
        let rows: [[[UInt8]?]] = [[[UInt8](repeating: 1, count: 2000)]]
        #expect(QueryResult.makeCopied(columns: [Self.text], rows: rows, after: nil) == nil)
    }

    static func address(of columns: [QueryResult.Column]?) -> UnsafeRawPointer? {
        columns?.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
    }
}
