import PostgresTransport
import Testing
import TestSupport

@Suite("A batch's results against a real server", .capturingLogs, .enabled(if: TestServer.isAvailable, TestServer.skipReason))
struct BatchResultTests {
    /// A batch's small results share the column list of the result before when theirs is the same: statements of
    /// other columns in between (names, types, formats, counts) each still read as their own.
    @Test func eachResultReadsItsOwnColumns() async throws {
        let connection = try await TestServer.connect()
        let statements = [
            BatchStatement("SELECT 1::int4 AS a"),
            BatchStatement("SELECT 2::int4 AS a"),
            BatchStatement("SELECT 3::int4 AS b"),
            BatchStatement("SELECT '4'::text AS b"),
            BatchStatement("SELECT '4'::text AS \"B\""),
            BatchStatement("SELECT 5::int4 AS a, NULL::text AS c"),
            BatchStatement("CREATE TEMP TABLE batch_results_none (a int4)"),
            BatchStatement("SELECT 6::int4 AS a"),
        ]
        let results = try await connection.executeBatch(statements)
        #expect(results.map { $0.columnCount } == [1, 1, 1, 1, 1, 2, 0, 1])
        #expect(results.map { $0.columnCount > 0 ? $0.columnName(0) : "" } == ["a", "a", "b", "b", "B", "a", "", "a"])
        #expect(results.map { $0.columnCount > 0 ? $0.columnType(0) : 0 } == [23, 23, 23, 25, 25, 23, 0, 23])
        #expect(results[4].columnIndex(named: "b") == nil)
        #expect(results[4].columnIndex(named: "\"B\"") == 0)
        let values = results.map { $0.rowCount > 0 ? $0.string(row: 0, column: 0) : nil }
        #expect(values == ["1", "2", "3", "4", "4", "5", nil, "6"])
        #expect(results[5].isNull(row: 0, column: 1))
        #expect(results[5].columnIndex(named: "c") == 1)
        await connection.close()
    }
}
