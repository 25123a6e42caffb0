import PostgresTransport
import ResilientPostgres
import Synchronization
import Testing
import TestSupport

/// COPY FROM STDIN against a real server: raw CSV chunks, binary rows, and a bulk load whose session is killed
/// half way, inside a transaction block (run again whole) and bare (not retried, and said so).
@Suite("COPY", .capturingLogs, .enabled(if: IntegrationServers.main, IntegrationServers.mainSkipReason))
struct CopyTests {
    static var port: String { IntegrationServers.port("main") ?? "5432" }

    static func client() -> PostgresClient {
        PostgresClient(configuration: IntegrationServers.configuration(IntegrationServers.appParameters(port: port)) {
            $0.maxConnections = 2
        })
    }

    static func chunks(_ texts: [String]) -> AsyncStream<[UInt8]> {
        AsyncStream { continuation in
            for text in texts { continuation.yield(Array(text.utf8)) }
            continuation.finish()
        }
    }

    @Test func csvChunksAreCopied() async throws {
        let client = Self.client()
        let table = IntegrationServers.unique("copy_csv")
        try await withCleanup {
            try await client.execute("CREATE TABLE \(unsafeRaw: table) (id int PRIMARY KEY, name text)")
            let copied = try await client.copyIn(
                "COPY \(unsafeRaw: table) (id, name) FROM STDIN (FORMAT csv)",
                from: Self.chunks(["1,apple\n2,pe", "ar\n3,\"plum, red\"\n"])
            )
            #expect(copied == 3)
            let names = try await client.query(
                "SELECT name FROM \(unsafeRaw: table) ORDER BY id", options: .readOnly
            ).decode(String.self)
            #expect(names == ["apple", "pear", "plum, red"])
        } cleanup: {
            try await client.execute("DROP TABLE IF EXISTS \(unsafeRaw: table)")
            await client.shutdown()
        }
    }

    @Test func binaryRowsAreCopiedWithTheirTypes() async throws {
        let client = Self.client()
        let table = IntegrationServers.unique("copy_binary")
        try await withCleanup {
            try await client.execute(
                "CREATE TABLE \(unsafeRaw: table) (id int8, name text, score float8, flag bool, note text)"
            )
            let rows = AsyncStream<[any PostgresEncodable]> { continuation in
                for id in 1...1000 {
                    continuation.yield([id, "item \(id)", Double(id) / 4, id % 2 == 0, id % 3 == 0 ? nil : "n" as String?])
                }
                continuation.finish()
            }
            let copied = try await client.copyIn(
                "COPY \(unsafeRaw: table) FROM STDIN (FORMAT binary)", rows: rows
            )
            #expect(copied == 1000)
            let row = try await client.query(
                "SELECT id, name, score, flag, note FROM \(unsafeRaw: table) WHERE id = 6", options: .readOnly
            ).decode((Int, String, Double, Bool, String?).self)
            #expect(row.count == 1)
            #expect(row.first.map { $0.0 == 6 && $0.1 == "item 6" && $0.2 == 1.5 && $0.3 && $0.4 == nil } == true)
        } cleanup: {
            try await client.execute("DROP TABLE IF EXISTS \(unsafeRaw: table)")
            await client.shutdown()
        }
    }

    @Test func malformedDataFailsWithTheServersErrorAndTheSessionStaysUsable() async throws {
        let client = PostgresClient(configuration: IntegrationServers.configuration(
            IntegrationServers.appParameters(port: Self.port)
        ) { $0.maxConnections = 1 })
        let table = IntegrationServers.unique("copy_bad")
        try await withCleanup { () async throws in
            try await client.execute("CREATE TABLE \(unsafeRaw: table) (id int)")
            await #expect(throws: PostgresError.self) {
                try await client.copyIn(
                    "COPY \(unsafeRaw: table) FROM STDIN (FORMAT csv)", from: Self.chunks(["1\nnot a number\n"])
                )
            }
            #expect(try await client.query("SELECT count(*)::int FROM \(unsafeRaw: table)", options: .readOnly)
                .decode(Int.self) == [0])
        } cleanup: {
            try await client.execute("DROP TABLE IF EXISTS \(unsafeRaw: table)")
            await client.shutdown()
        }
    }

    /// A million rows, the session terminated after half of them were sent.
    static func bulkRows(
        total: Int, killingAt half: Int, pid: Int, superuser: LibPQConnection
    ) -> BulkRows {
        BulkRows(total: total, half: half, pid: pid, superuser: superuser)
    }

    struct BulkRows: AsyncSequence {
        let total: Int, half: Int, pid: Int
        let superuser: LibPQConnection

        func makeAsyncIterator() -> Iterator { Iterator(rows: self) }

        struct Iterator: AsyncIteratorProtocol {
            let rows: BulkRows
            var next = 1

            mutating func next() async throws -> [any PostgresEncodable]? {
                guard next <= rows.total else { return nil }
                defer { next += 1 }
                if next == rows.half, rows.pid != 0 {
                    _ = try await rows.superuser.execute(
                        "SELECT pg_terminate_backend($1)", parameters: [.text(String(rows.pid))]
                    )
                }
                return [next, "row \(next)"]
            }
        }
    }

    @Test func aBulkLoadInATransactionIsRunAgainWholeAfterItsSessionIsKilled() async throws {
        let client = Self.client()
        let superuser = try await IntegrationServers.superuserSession(port: Self.port)
        let table = IntegrationServers.unique("copy_tx")
        let total = 1_000_000
        try await withCleanup {
            try await client.execute("CREATE TABLE \(unsafeRaw: table) (id int8, name text)")
            let runs = Mutex(0)
            let copied = try await client.transaction { transaction in
                let run = runs.withLock { $0 += 1; return $0 }
                let pid = try await transaction.query("SELECT pg_backend_pid()").decode(Int.self)[0]
                return try await transaction.copyIn(
                    "COPY \(unsafeRaw: table) FROM STDIN (FORMAT binary)",
                    rows: Self.bulkRows(total: total, killingAt: total / 2, pid: run == 1 ? pid : 0, superuser: superuser)
                )
            }
            #expect(copied == total)
            #expect(runs.withLock { $0 } == 2)
            #expect(try await client.query("SELECT count(*)::int FROM \(unsafeRaw: table)", options: .readOnly)
                .decode(Int.self) == [total])
        } cleanup: {
            try await client.execute("DROP TABLE IF EXISTS \(unsafeRaw: table)")
            await client.shutdown()
            await superuser.close()
        }
    }

    /// Bare, the COPY is not run again (its rows cannot be read twice); killed before its end was sent, the error
    /// says so, and nothing of it was applied.
    @Test func aBareBulkLoadKilledHalfWayIsNotRetriedAndSaysWhatHappened() async throws {
        let client = PostgresClient(configuration: IntegrationServers.configuration(
            IntegrationServers.appParameters(port: Self.port)
        ) { $0.maxConnections = 1 })
        let superuser = try await IntegrationServers.superuserSession(port: Self.port)
        let table = IntegrationServers.unique("copy_bare")
        let total = 1_000_000
        try await withCleanup {
            try await client.execute("CREATE TABLE \(unsafeRaw: table) (id int8, name text)")
            // The COPY runs on the session the pool lends next, the one just given back.
            let pid = try await client.withConnection { try await $0.query("SELECT pg_backend_pid()") }
                .decode(Int.self)[0]
            do {
                try await client.copyIn(
                    "COPY \(unsafeRaw: table) FROM STDIN (FORMAT binary)",
                    rows: Self.bulkRows(total: total, killingAt: total / 2, pid: pid, superuser: superuser)
                )
                Issue.record("the COPY succeeded although its session was terminated")
            } catch let error as PostgresError {
                #expect(error.reason == .streamInterrupted)
                #expect(error.attempts == 1)
                #expect(!error.mayHaveBeenApplied)
            }
            #expect(try await client.query("SELECT count(*)::int FROM \(unsafeRaw: table)", options: .readOnly)
                .decode(Int.self) == [0])
        } cleanup: {
            try await client.execute("DROP TABLE IF EXISTS \(unsafeRaw: table)")
            await client.shutdown()
            await superuser.close()
        }
    }
}
