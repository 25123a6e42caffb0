#if canImport(Glibc)
import Glibc
#endif
import PostgresTransport
import Testing

/// A row stream's batch hands its bytes to the result it makes and goes on with memory of its own: a result must
/// read its values after the batch has moved on and been dropped, and its column facts must hold past the eighth
/// column and for every format. Server-less, so that the sanitizers' unit run covers the hand-over.
@Suite("Row batches")
struct RowBatchTests {
    /// Ten columns: binary int8 at 0 and 7, text at the others; the text values grow from empty to 40 KiB, past a
    /// batch's first block, and the last column is NULL in every other row.
    static let columns = (0..<10).map { column in
        let isBinary = column == 0 || column == 7
        return QueryResult.Column(name: "c\(column)", type: isBinary ? 20 : 25, format: isBinary ? .binary : .text)
    }

    static func row(_ index: Int) -> [[UInt8]?] {
        (0..<10).map { column in
            switch column {
            case 0, 7: withUnsafeBytes(of: Int64(index * 10 + column).bigEndian) { Array($0) }
            case 9 where index.isMultiple(of: 2): nil
            default: Array(repeating: UInt8(ascii: "a") + UInt8(column), count: index * index * 400)
            }
        }
    }

    @Test func resultsReadTheirValuesAfterTheBatchMovedOn() {
        let rows = (0..<11).map(Self.row)
        let results = QueryResult.makeBatches(columns: Self.columns, rows: rows, batchSize: 4)
        #expect(results.map(\.rowCount) == [4, 4, 3])
        for (batchIndex, result) in results.enumerated() {
            #expect(result.columnCount == 10)
            for row in 0..<result.rowCount {
                let expected = rows[batchIndex * 4 + row]
                for column in 0..<10 {
                    let value = result.value(row: row, column: column)
                    #expect(value.bytes.map(Array.init) == expected[column])
                    #expect(value.type == Self.columns[column].type)
                    #expect(value.format == Self.columns[column].format)
                }
            }
        }
    }

    /// A value is read without a check on the cells, which holds only while every row has a cell per column: a batch
    /// refuses a row of other columns than its first's.
    @Test func aBatchRefusesRowsOfAnotherColumnCount() async {
        await #expect(processExitsWith: .failure) {
            let one = [QueryResult.Column(name: "a", type: 25, format: .text)]
            let two = one + [QueryResult.Column(name: "b", type: 25, format: .text)]
            _ = QueryResult.makeBatch(of: [(one, [[[0x61]]]), (two, [[[0x61], [0x62]]])])
        }
    }

    #if canImport(Glibc)
    /// A row the app keeps holds its batch's values, not the room the batch had grown to for them.
    @Test func aResultHoldsNoMoreMemoryThanItsValues() throws {
        // 40 KiB of values: more than a batch's first block of 32 KiB, which doubles to 64 KiB to hold them.
        let rows = (0..<10).map { _ in [[UInt8](repeating: 1, count: 4096)] as [[UInt8]?] }
        let columns = [QueryResult.Column(name: "a", type: 17, format: .binary)]
        let result = try #require(QueryResult.makeBatches(columns: columns, rows: rows, batchSize: 10).first)
        let block = try #require(result.value(row: 0, column: 0).bytes?.baseAddress)
        #expect(try Self.allocatedSize(of: block) < 41 * 1024)
    }

    /// A batch's result keeps cells for its rows, not for the rows the batch had room for.
    @Test func aResultHoldsNoMoreCellsThanItsValues() throws {
        let batches = QueryResult.makeBatches(columns: Self.columns, rows: [Self.row(1)], batchSize: 256)
        let result = try #require(batches.first)
        let cells = try #require(result.copiedCellsAddress)
        #expect(try Self.allocatedSize(of: cells) < 10 * 8 + 32)
    }

    /// The size glibc gave the block at `pointer` (`malloc_usable_size`, which the Glibc module does not export).
    static func allocatedSize(of pointer: UnsafeRawPointer) throws -> Int {
        typealias UsableSize = @convention(c) (UnsafeMutableRawPointer?) -> Int
        let symbol = try #require(dlsym(nil, "malloc_usable_size"))
        return unsafeBitCast(symbol, to: UsableSize.self)(UnsafeMutableRawPointer(mutating: pointer))
    }
    #endif
}
