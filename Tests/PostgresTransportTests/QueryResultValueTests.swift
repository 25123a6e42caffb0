import PostgresTransport
import Testing

/// The read of a value without its bounds check still reads no memory outside the result: a column out of range
/// reads as SQL NULL of no type.
@Suite("Values read without a bounds check")
struct QueryResultValueTests {
    @Test func aNegativeColumnReadsNoMemoryOutsideTheResult() {
        let result = QueryResult.make(
            columns: [QueryResult.Column(name: "a", type: 20, format: .binary)],
            rows: [[withUnsafeBytes(of: Int64(1).bigEndian) { Array($0) }]], commandTag: "SELECT 1"
        )
        for column in [-1, -2, Int.min] {
            let value = result.value(uncheckedRow: 0, column: column)
            #expect(value.bytes == nil)
            #expect(value.type == 0)
        }
    }
}
