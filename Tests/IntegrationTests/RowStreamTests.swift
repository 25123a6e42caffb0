import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

/// Row streams against a real server: every row once, in order; a failure part way that says how many rows came;
/// an early exit that stops the query on the server and gives the session back clean.
@Suite("Row streams", .capturingLogs, .enabled(if: IntegrationServers.main, IntegrationServers.mainSkipReason))
struct RowStreamTests {
    static var port: String { IntegrationServers.port("main") ?? "5432" }

    static func client(port: String = port) -> PostgresClient {
        PostgresClient(configuration: IntegrationServers.configuration(IntegrationServers.appParameters(port: port)) {
            $0.maxConnections = 1
        })
    }

    @Test func everyRowArrivesOnceInOrder() async throws {
        let client = Self.client()
        try await withCleanup {
            var expected = 1
            for try await row in try await client.rows(
                "SELECT i, repeat('x', 100) FROM generate_series(1, 100000) AS i", options: .readOnly
            ) {
                let (i, text) = try row.decode((Int, String).self)
                #expect(i == expected && text.utf8.count == 100)
                expected += 1
            }
            #expect(expected == 100_001)
            // The session came back: the one slot serves the next operation.
            #expect(try await client.query("SELECT 1", options: .readOnly).decode(Int.self) == [1])
        } cleanup: {
            await client.shutdown()
        }
    }

    /// NULLs, empty text, values larger than a batch's first block and than a whole batch, and rows kept after the
    /// stream has moved on: every value arrives as the server sent it.
    @Test func valuesOfEverySizeAndNullArriveIntactAndKeptRowsStayValid() async throws {
        let client = Self.client()
        try await withCleanup {
            var kept: [PostgresRow] = []
            var count = 0
            for try await row in try await client.rows(
                """
                SELECT i, CASE WHEN i % 3 = 0 THEN NULL WHEN i % 3 = 1 THEN '' ELSE repeat('é', i * 100) END
                FROM generate_series(1, 2000) AS i
                """,
                options: .readOnly
            ) {
                count += 1
                let (i, text) = try row.decode((Int, String?).self)
                #expect(text == Self.expectedText(i))
                if i % 500 == 2 { kept.append(row) }
            }
            #expect(count == 2000)
            #expect(try kept.map { try $0.decode((Int, String?).self).1 } == [2, 502, 1002, 1502].map(Self.expectedText))
        } cleanup: {
            await client.shutdown()
        }
    }

    /// A streamed row keeps its first eight columns' facts and asks its copied values about the others.
    @Test func columnsAfterTheEighthOfAStreamedRowDecode() async throws {
        let client = Self.client()
        try await withCleanup {
            var count = 0
            for try await row in try await client.rows(
                """
                SELECT i, 1::int8, 2::int8, 3::int8, 4::int8, 5::int8, 6::int8, i * 7::int8, 'row ' || i,
                       CASE WHEN i % 2 = 0 THEN NULL ELSE i END::int4
                FROM generate_series(1, 3) AS i
                """,
                options: .readOnly
            ) {
                count += 1
                #expect(row.columnCount == 10)
                #expect(try row.decode(Int.self, column: 7) == count * 7)
                #expect(try row.decode(String.self, column: 8) == "row \(count)")
                #expect(try row.decode(Int?.self, column: 9) == (count.isMultiple(of: 2) ? nil : count))
            }
            #expect(count == 3)
        } cleanup: {
            await client.shutdown()
        }
    }

    static func expectedText(_ i: Int) -> String? {
        switch i % 3 {
        case 0: nil
        case 1: ""
        default: String(repeating: "é", count: i * 100)
        }
    }

    @Test func aStatementWithoutRowsEndsAtOnce() async throws {
        let client = Self.client()
        try await withCleanup {
            var count = 0
            for try await _ in try await client.rows("SELECT 1 WHERE false", options: .readOnly) { count += 1 }
            #expect(count == 0)
            #expect(try await client.query("SELECT 2", options: .readOnly).decode(Int.self) == [2])
        } cleanup: {
            await client.shutdown()
        }
    }

    /// Rows of no columns have no values to copy: each batch's result still holds its rows.
    @Test func rowsOfNoColumnsArrive() async throws {
        let client = Self.client()
        try await withCleanup {
            var count = 0
            for try await row in try await client.rows("SELECT FROM generate_series(1, 600)", options: .readOnly) {
                #expect(row.columnCount == 0)
                count += 1
            }
            #expect(count == 600)
        } cleanup: {
            await client.shutdown()
        }
    }

    @Test func aFailingStatementFailsBeforeTheFirstRow() async throws {
        let client = Self.client()
        try await withCleanup { () async throws in
            await #expect(throws: PostgresError.self) {
                for try await _ in try await client.rows("SELECT * FROM no_such_table", options: .readOnly) {}
            }
            #expect(try await client.query("SELECT 3", options: .readOnly).decode(Int.self) == [3])
        } cleanup: {
            await client.shutdown()
        }
    }

    /// Breaking out after 10 rows of 10 million: the query stops on the server, and the session is back in the
    /// pool (of one) within a second, idle, and serves the next operation.
    @Test func breakingOutStopsTheQueryAndFreesTheSession() async throws {
        let client = Self.client()
        let superuser = try await IntegrationServers.superuserSession(port: Self.port)
        try await withCleanup {
            var pid = 0
            var seen = 0
            for try await row in try await client.rows(
                "SELECT pg_backend_pid(), i FROM generate_series(1, 10000000) AS i", options: .readOnly
            ) {
                (pid, _) = try row.decode((Int, Int).self)
                seen += 1
                if seen == 10 { break }
            }
            // Before the next operation, which would replace the session's last query either way.
            #expect(try await Self.queryStops(pid: pid, within: .seconds(1), superuser: superuser))
            let next = try await client.query("SELECT pg_backend_pid()", options: .readOnly).decode(Int.self)
            #expect(next == [pid], "the same session, given back clean rather than closed")
        } cleanup: {
            await client.shutdown()
            await superuser.close()
        }
    }

    /// The server process ends after 1,000 rows: the error says how many rows came, they are exactly the first ones,
    /// and resuming after the last key reads the rest, none twice and none skipped.
    @Test func aFailurePartWaySaysHowManyRowsCameAndTheRestResumes() async throws {
        let client = Self.client()
        let superuser = try await IntegrationServers.superuserSession(port: Self.port)
        let total = 200_000
        try await withCleanup {
            var last = 0
            var received = 0
            do {
                for try await row in try await client.rows(
                    "SELECT pg_backend_pid(), i FROM generate_series(1, \(total)) AS i", options: .readOnly
                ) {
                    let (pid, i) = try row.decode((Int, Int).self)
                    #expect(i == last + 1)
                    last = i
                    received += 1
                    if received == 1000 {
                        _ = try await superuser.execute(
                            "SELECT pg_terminate_backend($1)", parameters: [.text(String(pid))]
                        )
                    }
                }
                Issue.record("the stream ended without the failure")
            } catch let error as PostgresError {
                #expect(error.rowsDelivered == received)
                #expect(error.reason == .streamInterrupted)
                #expect(!error.mayHaveBeenApplied)
            }
            #expect(received >= 1000 && received < total)
            for try await row in try await client.rows(
                "SELECT i FROM generate_series(1, \(total)) AS i WHERE i > \(last)", options: .readOnly
            ) {
                let i = try row.decode(Int.self)
                #expect(i == last + 1)
                last = i
            }
            #expect(last == total)
        } cleanup: {
            await client.shutdown()
            await superuser.close()
        }
    }

    /// Cancelling the consuming task ends the stream with a cancelled error, and the session serves the next one.
    @Test func cancellingTheTaskStopsTheQuery() async throws {
        let client = Self.client()
        try await withCleanup {
            let consumer = Task {
                var seen = 0
                for try await _ in try await client.rows(
                    "SELECT i FROM generate_series(1, 10000000) AS i", options: .readOnly
                ) {
                    seen += 1
                    if seen == 100 { withUnsafeCurrentTask { $0?.cancel() } }
                }
                return seen
            }
            let result = await consumer.result
            let error = try #require(result.failure as? PostgresError)
            #expect(error.reason == .cancelled)
            #expect((error.rowsDelivered ?? 0) >= 100)
            #expect(try await client.query("SELECT 4", options: .readOnly).decode(Int.self) == [4])
        } cleanup: {
            await client.shutdown()
        }
    }
}
