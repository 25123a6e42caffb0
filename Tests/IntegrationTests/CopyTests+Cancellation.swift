import ResilientPostgres
import Testing
import TestSupport

extension CopyTests {
    /// A COPY whose task is cancelled while it waits for more data: its chunks' stream ends (an `AsyncStream`
    /// returns nil once cancelled), which must not be taken as the end of the data and commit the rows sent so far.
    @Test func aCancelledCopyAppliesNothingOfWhatItSent() async throws {
        let client = Self.client()
        let table = IntegrationServers.unique("copy_cancel")
        try await withCleanup {
            try await client.execute("CREATE TABLE \(unsafeRaw: table) (id int)")
            let (chunks, continuation) = AsyncStream<[UInt8]>.makeStream()
            let copy = Task {
                try await client.copyIn("COPY \(unsafeRaw: table) FROM STDIN", from: chunks)
            }
            continuation.yield(Array("1\n2\n3\n".utf8))
            var processed = 0
            for _ in 0..<1000 where processed < 3 {
                processed = try await client.query(
                    "SELECT coalesce(max(tuples_processed), 0)::int FROM pg_stat_progress_copy WHERE relid = \(table)::regclass",
                    options: .readOnly
                ).decode(Int.self).first ?? 0
                if processed < 3 { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(processed >= 3)
            copy.cancel()
            await #expect(throws: (any Error).self) { try await copy.value }
            #expect(try await client.query("SELECT count(*)::int FROM \(unsafeRaw: table)", options: .readOnly)
                .decode(Int.self) == [0])
        } cleanup: {
            try await client.execute("DROP TABLE IF EXISTS \(unsafeRaw: table)")
            await client.shutdown()
        }
    }
}
