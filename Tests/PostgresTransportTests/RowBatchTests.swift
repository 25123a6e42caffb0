#if canImport(Glibc)
import Glibc
#endif
import PostgresTransport
import Testing

/// A row stream's batch hands its bytes to the result it makes and goes on with memory of its own. Server-less, so
/// that the sanitizers' unit run covers the hand-over.
@Suite("Row batches")
struct RowBatchTests {
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

    /// The size glibc gave the block at `pointer` (`malloc_usable_size`, which the Glibc module does not export).
    static func allocatedSize(of pointer: UnsafeRawPointer) throws -> Int {
        typealias UsableSize = @convention(c) (UnsafeMutableRawPointer?) -> Int
        let symbol = try #require(dlsym(nil, "malloc_usable_size"))
        return unsafeBitCast(symbol, to: UsableSize.self)(UnsafeMutableRawPointer(mutating: pointer))
    }
    #endif
}
