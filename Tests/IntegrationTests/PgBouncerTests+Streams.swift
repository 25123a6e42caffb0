import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

extension PgBouncerTests {
    /// Through pgbouncer in transaction mode, a row stream keeps its server session to its end, an early exit
    /// frees it for the next statement, and a COPY loads its rows, bare and inside a transaction block.
    @Test func rowStreamsAndCopyWork() async throws {
        let client = Self.client { $0.maxConnections = 1 }
        let table = IntegrationServers.unique("bouncer_copy")
        try await withCleanup {
            var count = 0
            for try await row in try await client.rows(
                "SELECT i FROM generate_series(1, 50000) AS i", options: .readOnly
            ) {
                count += 1
                #expect(try row.decode(Int.self) == count)
            }
            #expect(count == 50_000)
            let tag = IntegrationServers.unique("bouncer_rows")
            for try await _ in try await client.rows(
                "SELECT i FROM generate_series(1, 10000000) AS i -- \(unsafeRaw: tag)", options: .readOnly
            ) {
                break
            }
            // Before the next statement, which would run either way.
            #expect(try await Self.serverStops(statementTagged: tag, within: .seconds(1)))
            #expect(try await client.query("SELECT 5", options: .readOnly).decode(Int.self) == [5])

            try await client.execute("CREATE TABLE \(unsafeRaw: table) (id int8, name text)")
            let bare = try await client.copyIn(
                "COPY \(unsafeRaw: table) FROM STDIN (FORMAT csv)",
                from: AsyncStream { continuation in
                    continuation.yield(Array("1,one\n2,two\n".utf8))
                    continuation.finish()
                }
            )
            let inBlock = try await client.transaction { transaction in
                try await transaction.copyIn(
                    "COPY \(unsafeRaw: table) FROM STDIN (FORMAT binary)",
                    rows: AsyncStream { continuation in
                        for id in 3...1000 { continuation.yield([id, "row \(id)"]) }
                        continuation.finish()
                    }
                )
            }
            #expect(bare == 2 && inBlock == 998)
            #expect(try await client.query("SELECT count(*)::int FROM \(unsafeRaw: table)", options: .readOnly)
                .decode(Int.self) == [1000])
        } cleanup: {
            try await client.execute("DROP TABLE IF EXISTS \(unsafeRaw: table)")
            await client.shutdown()
        }
    }
}

extension PgBouncerTests {
    /// Through pgbouncer in transaction mode, a COPY TO STDOUT keeps its server session to its end, and an early
    /// exit frees it for the next statement.
    @Test func copyOutWorks() async throws {
        let client = Self.client { $0.maxConnections = 1 }
        try await withCleanup {
            var text = ""
            for try await chunk in try await client.copyOut(
                "COPY (SELECT i FROM generate_series(1, 50000) AS i) TO STDOUT", options: .readOnly
            ) {
                text += String(decoding: chunk, as: UTF8.self)
            }
            #expect(text == (1...50_000).map { "\($0)\n" }.joined())
            let tag = IntegrationServers.unique("bouncer_copy_out")
            for try await _ in try await client.copyOut(
                "COPY (SELECT i FROM generate_series(1, 10000000) AS i) TO STDOUT -- \(unsafeRaw: tag)",
                options: .readOnly
            ) {
                break
            }
            #expect(try await Self.serverStops(statementTagged: tag, within: .seconds(1)))
            #expect(try await client.query("SELECT 6", options: .readOnly).decode(Int.self) == [6])
        } cleanup: {
            await client.shutdown()
        }
    }
}

extension PgBouncerTests {
    /// Whether the server behind pgbouncer is left running no statement that contains `tag` within `limit`, polled
    /// on a session of its own.
    static func serverStops(statementTagged tag: String, within limit: Duration) async throws -> Bool {
        let superuser = try await IntegrationServers.superuserSession(port: IntegrationServers.port("main") ?? "5432")
        do {
            let stopped = try await serverStops(statementTagged: tag, within: limit, superuser: superuser)
            await superuser.close()
            return stopped
        } catch {
            await superuser.close()
            throw error
        }
    }

    private static func serverStops(
        statementTagged tag: String, within limit: Duration, superuser: LibPQConnection
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while true {
            let running = try await superuser.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE $1 AND state <> 'idle'"
                    + " AND pid <> pg_backend_pid()",
                parameters: [.text("%\(tag)%")]
            )
            if running.string(row: 0, column: 0) == "0" { return true }
            if ContinuousClock.now >= deadline { return false }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
