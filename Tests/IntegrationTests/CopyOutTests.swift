import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

/// COPY TO STDOUT against a real server: all the data once, in chunks of whole rows; a failure part way that says
/// how many chunks came; an early exit that stops the COPY on the server and gives the session back clean.
@Suite("COPY TO STDOUT", .capturingLogs, .enabled(if: IntegrationServers.main, IntegrationServers.mainSkipReason))
struct CopyOutTests {
    static var port: String { IntegrationServers.port("main") ?? "5432" }

    static func client() -> PostgresClient {
        PostgresClient(configuration: IntegrationServers.configuration(IntegrationServers.appParameters(port: port)) {
            $0.maxConnections = 1
        })
    }

    /// The keys of CSV lines `i,...`, checking that the chunk ends at the end of a line.
    static func keys(of chunk: [UInt8]) -> [Int] {
        #expect(chunk.last == UInt8(ascii: "\n"), "a chunk ends at the end of a row")
        return chunk.split(separator: UInt8(ascii: "\n")).map { line in
            Int(String(decoding: line.prefix { $0 != UInt8(ascii: ",") }, as: UTF8.self)) ?? -1
        }
    }

    @Test func everyRowArrivesOnceInOrderInChunksOfWholeRows() async throws {
        let client = Self.client()
        try await withCleanup {
            var expected = 1
            var chunks = 0
            for try await chunk in try await client.copyOut(
                "COPY (SELECT i, repeat('x', 100) FROM generate_series(1, 100000) AS i) TO STDOUT (FORMAT csv)",
                options: .readOnly
            ) {
                chunks += 1
                for key in Self.keys(of: chunk) {
                    #expect(key == expected)
                    expected += 1
                }
            }
            #expect(expected == 100_001)
            #expect(chunks > 1, "about 11 MB arrive in chunks of about 64 KiB")
            #expect(try await client.query("SELECT 1", options: .readOnly).decode(Int.self) == [1])
        } cleanup: {
            await client.shutdown()
        }
    }

    @Test func aStatementThatIsNotACopyToStdoutFails() async throws {
        let client = Self.client()
        try await withCleanup { () async throws in
            await #expect(throws: PostgresError.self) {
                for try await _ in try await client.copyOut("SELECT 1", options: .readOnly) {}
            }
            await #expect(throws: PostgresError.self) {
                for try await _ in try await client.copyOut("COPY no_such_table TO STDOUT", options: .readOnly) {}
            }
            #expect(try await client.query("SELECT 2", options: .readOnly).decode(Int.self) == [2])
        } cleanup: {
            await client.shutdown()
        }
    }

    /// Breaking out after the first chunk of a 10-million-row COPY: the COPY stops on the server, and the session
    /// is back in the pool (of one), idle, and serves the next operation.
    @Test func breakingOutStopsTheCopyAndFreesTheSession() async throws {
        let client = Self.client()
        let superuser = try await IntegrationServers.superuserSession(port: Self.port)
        try await withCleanup {
            var pid = 0
            for try await chunk in try await client.copyOut(
                "COPY (SELECT pg_backend_pid(), i FROM generate_series(1, 10000000) AS i) TO STDOUT (FORMAT csv)",
                options: .readOnly
            ) {
                pid = Self.keys(of: chunk).first ?? 0
                break
            }
            let next = try await client.query("SELECT pg_backend_pid()", options: .readOnly).decode(Int.self)
            #expect(next == [pid], "the same session, given back clean rather than closed")
            let running = try await superuser.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND query LIKE '%generate_series%'"
                    + " AND state <> 'idle'",
                parameters: [.text(String(pid))]
            )
            #expect(running.string(row: 0, column: 0) == "0")
        } cleanup: {
            await client.shutdown()
            await superuser.close()
        }
    }

    /// The server process ends after the first chunk: the error says how many rows came in the chunks, exactly the
    /// first rows.
    @Test func aFailurePartWaySaysHowManyRowsCame() async throws {
        let client = Self.client()
        let superuser = try await IntegrationServers.superuserSession(port: Self.port)
        try await withCleanup {
            var last = 0
            var chunks = 0
            do {
                for try await chunk in try await client.copyOut(
                    "COPY (SELECT i, pg_backend_pid() FROM generate_series(1, 10000000) AS i) TO STDOUT (FORMAT csv)",
                    options: .readOnly
                ) {
                    let keys = Self.keys(of: chunk)
                    #expect(keys.first == last + 1)
                    last = keys.last ?? last
                    chunks += 1
                    if chunks == 1 {
                        let line = chunk.prefix { $0 != UInt8(ascii: "\n") }
                        let pid = String(decoding: line.drop { $0 != UInt8(ascii: ",") }.dropFirst(), as: UTF8.self)
                        _ = try await superuser.execute("SELECT pg_terminate_backend($1)", parameters: [.text(pid)])
                    }
                }
                Issue.record("the COPY ended without the failure")
            } catch let error as PostgresError {
                #expect(error.rowsDelivered == last)
                #expect(error.reason == .streamInterrupted)
                #expect(!error.mayHaveBeenApplied)
            }
            #expect(chunks >= 1 && last < 10_000_000)
            #expect(try await client.query("SELECT 3", options: .readOnly).decode(Int.self) == [3])
        } cleanup: {
            await client.shutdown()
            await superuser.close()
        }
    }

    /// Cancelling the consuming task ends the COPY with a cancelled error, and the session serves the next one.
    @Test func cancellingTheTaskStopsTheCopy() async throws {
        let client = Self.client()
        try await withCleanup {
            let consumer = Task {
                for try await _ in try await client.copyOut(
                    "COPY (SELECT i FROM generate_series(1, 10000000) AS i) TO STDOUT", options: .readOnly
                ) {
                    withUnsafeCurrentTask { $0?.cancel() }
                }
            }
            let error = try #require(await consumer.result.failure as? PostgresError)
            #expect(error.reason == .cancelled)
            #expect(try await client.query("SELECT 4", options: .readOnly).decode(Int.self) == [4])
        } cleanup: {
            await client.shutdown()
        }
    }
}
