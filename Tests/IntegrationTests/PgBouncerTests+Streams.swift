import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

extension PgBouncerTests {
    /// Through pgbouncer in transaction mode, a row stream keeps its server session to its end, an early exit
    /// stops the query with a cancel and frees the session for the next statement, and a COPY loads its rows, bare
    /// and inside a transaction block.
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
            var pid = 0
            for try await row in try await client.rows(
                "SELECT pg_backend_pid(), generate_series(1, 1000000000) -- \(unsafeRaw: tag)",
                options: .readOnly
            ) {
                (pid, _) = try row.decode((Int, Int).self)
                break
            }
            try #require(pid > 0, "the first row names its server backend")
            // A billion rows, streamed as they are made (not gathered first, as `FROM generate_series` does): a
            // statement that only the cancel can end before the client gives up on it and closes the session.
            // The pool of one lends the session again only once the clean-up has given it back.
            #expect(try await client.query("SELECT 5", options: .readOnly).decode(Int.self) == [5])
            try await Self.expectStoppedByACancel(pid: pid, tag: tag)

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
    /// exit stops it with a cancel and frees the session for the next statement.
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
            // A billion rows, made as they are sent: only the cancel can end them before the client gives up.
            let tag = IntegrationServers.unique("bouncer_copy_out")
            var pid = 0
            for try await chunk in try await client.copyOut(
                """
                COPY (SELECT pg_backend_pid(), generate_series(1, 1000000000)) TO STDOUT (FORMAT csv) \
                -- \(unsafeRaw: tag)
                """,
                options: .readOnly
            ) {
                pid = Int(String(decoding: chunk.prefix { $0 != UInt8(ascii: ",") }, as: UTF8.self)) ?? 0
                break
            }
            try #require(pid > 0, "the first row names its server backend")
            #expect(try await client.query("SELECT 6", options: .readOnly).decode(Int.self) == [6])
            try await Self.expectStoppedByACancel(pid: pid, tag: tag)
        } cleanup: {
            await client.shutdown()
        }
    }
}

extension PgBouncerTests {
    /// Expects the server session behind pgbouncer whose backend is `pid` to be open and no longer running the
    /// statement tagged `tag`, once the client has given that statement's session back: the statement was stopped
    /// by a cancel, and the session left open.
    ///
    /// In transaction mode pgbouncer closes the server session of a client that leaves in the middle of a
    /// statement, and keeps it open once the statement has ended, for the next client; by the time this looks, that
    /// may be another test's, running its own statement.
    static func expectStoppedByACancel(pid: Int, tag: String) async throws {
        let superuser = try await IntegrationServers.superuserSession(port: IntegrationServers.port("main") ?? "5432")
        let session: QueryResult
        do {
            session = try await superuser.execute(
                "SELECT state, query FROM pg_stat_activity WHERE pid = $1", parameters: [.text(String(pid))]
            )
            await superuser.close()
        } catch {
            await superuser.close()
            throw error
        }
        guard session.rowCount == 1, let state = session.string(row: 0, column: 0) else {
            Issue.record("the server session was closed, not left open by a cancel")
            return
        }
        let query = session.string(row: 0, column: 1) ?? ""
        #expect(state == "idle" || !query.contains(tag), "the statement still runs: \(state): \(query)")
    }
}
