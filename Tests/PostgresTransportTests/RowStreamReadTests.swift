import PostgresTransport
import Testing
import TestSupport

@Suite("Row streams read from a real server", .capturingLogs, .enabled(if: TestServer.isAvailable, TestServer.skipReason))
struct RowStreamReadTests {
    /// Rows of no bytes never fill a batch's bytes: a call still hands over at most a batch of rows, however many the
    /// caller asks for, so that it gives the I/O thread back between batches.
    @Test func aCallHandsOverAtMostABatchOfRows() async throws {
        let connection = try await TestServer.connect()
        try await connection.startRows("SELECT FROM generate_series(1, 5000)")
        var total = 0
        while let batches = try await connection.nextRows(maximumCount: 1_000_000) {
            for batch in batches {
                #expect(batch.rowCount <= 512)
                total += batch.rowCount
            }
        }
        #expect(total == 5000)
        #expect(try await connection.execute("SELECT 'after'").string(row: 0, column: 0) == "after")
        await connection.close()
    }
}
