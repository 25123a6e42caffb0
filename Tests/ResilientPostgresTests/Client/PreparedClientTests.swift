import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

@Suite("Client statement caching against a real server", .capturingLogs, .enabled(if: ClientTestServer.isAvailable, ClientTestServer.skipReason))
struct PreparedClientTests {
    @Test func unnamedStatementsAreTheDefault() async throws {
        let configuration = ClientTestServer.configuration { $0.maxConnections = 1 }
        #expect(configuration.statementCaching == .unnamed)
        let client = PostgresClient(configuration: configuration)
        for value in 1...3 {
            _ = try await client.query("SELECT \(value) + 1", options: .readOnly)
        }
        let prepared = try await client.query("SELECT count(*)::int8 FROM pg_prepared_statements", options: .readOnly)
        #expect(try prepared[0].decode(Int.self, column: 0) == 0)
        await client.shutdown()
    }

    @Test func preparedStatementsAreReusedAndPreparedAgainWhenStale() async throws {
        let client = PostgresClient(configuration: ClientTestServer.configuration {
            $0.statementCaching = .prepared(capacity: 8)
            $0.maxConnections = 1
        })
        let table = ClientTestServer.uniqueTable("prepared")
        try await client.execute("CREATE TABLE \(unsafeRaw: table) (a int)")
        try await client.execute("INSERT INTO \(unsafeRaw: table) VALUES (\(1))")
        let select: PostgresQuery = "SELECT * FROM \(unsafeRaw: table) WHERE a >= \(0)"
        for _ in 0..<3 {
            #expect(try await client.query(select, options: .readOnly).count == 1)
        }
        #expect(try await Self.runs(of: select.sql, client) == 3)

        // Every named statement of the session is dropped: the next run fails with 26000, is prepared again and
        // retried on the same session.
        try await client.execute("DEALLOCATE ALL")
        #expect(try await client.query(select, options: .readOnly).count == 1)
        #expect(try await Self.runs(of: select.sql, client) == 1)

        // The table changes shape under the cached plan (0A000): prepared again, retried, the new shape returned.
        try await client.execute("ALTER TABLE \(unsafeRaw: table) ADD COLUMN b int DEFAULT 5")
        let reshaped = try await client.query(select, options: .readOnly)
        #expect(reshaped.columnNames == ["a", "b"])
        #expect(try reshaped[0].decode((Int, Int).self) == (1, 5))

        // Inside a transaction block too.
        let inBlock = try await client.transaction { tx in
            try await tx.execute("INSERT INTO \(unsafeRaw: table) VALUES (\(2))")
            return try await tx.query(select).count
        }
        #expect(inBlock == 2)
        try await client.execute("DROP TABLE \(unsafeRaw: table)")
        await client.shutdown()
    }

    /// How many times the session's named statement for `sql` ran since it was prepared.
    static func runs(of sql: String, _ client: PostgresClient) async throws -> Int? {
        let rows = try await client.query(
            "SELECT (generic_plans + custom_plans)::int8 FROM pg_prepared_statements WHERE statement = \(sql)",
            options: .readOnly
        )
        return try rows.first?.decode(Int.self, column: 0)
    }
}
