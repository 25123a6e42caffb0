import Foundation
import PostgresTransport
import ResilientPostgres
import ResilientPostgresTesting
import Testing
import TestSupport

@Suite("Client batches against a real server", .capturingLogs, .enabled(if: ClientTestServer.isAvailable, ClientTestServer.skipReason))
struct BatchClientTests {
    @Test func batchReturnsRowsInOrder() async throws {
        let client = PostgresClient(configuration: ClientTestServer.configuration())
        let queries: [PostgresQuery] = (0..<1000).map { "SELECT \($0) * 2, \("row \($0)")" }
        let rows = try await client.batch(queries, options: .readOnly)
        #expect(rows.count == 1000)
        let decoded = try rows.map { try $0[0].decode((Int, String).self) }
        #expect(decoded.map(\.0) == (0..<1000).map { $0 * 2 })
        #expect(decoded.map(\.1) == (0..<1000).map { "row \($0)" })
        #expect(try await client.batch([]).isEmpty)
        await client.shutdown()
    }

    @Test func batchIsRetriedAfterASerializationFailure() async throws {
        let client = PostgresClient(configuration: ClientTestServer.configuration())
        let table = ClientTestServer.uniqueTable("batch_conflict")
        let session = try await ClientTestServer.session()
        _ = try await session.executeUnsafeScript("""
            CREATE TABLE \(table) (id int PRIMARY KEY);
            CREATE SEQUENCE \(table)_calls;
            CREATE FUNCTION \(table)_conflict() RETURNS int LANGUAGE plpgsql AS $$
            BEGIN
                -- Sequences are not rolled back: only the first call of all fails.
                IF nextval('\(table)_calls') = 1 THEN
                    RAISE EXCEPTION 'could not serialize access' USING ERRCODE = '40001';
                END IF;
                RETURN 1;
            END $$;
            """)
        let rows = try await client.batch([
            "INSERT INTO \(unsafeRaw: table) VALUES (\(1))",
            "SELECT \(unsafeRaw: table)_conflict()",
            "INSERT INTO \(unsafeRaw: table) VALUES (\(2)) RETURNING id",
        ])
        #expect(try rows[1][0].decode(Int.self, column: 0) == 1)
        #expect(try rows[2][0].decode(Int.self, column: 0) == 2)
        // Run twice, applied once: the first run was rolled back whole.
        #expect(try await session.execute("SELECT last_value FROM \(table)_calls").string(row: 0, column: 0) == "2")
        #expect(try await session.execute("SELECT string_agg(id::text, ',' ORDER BY id) FROM \(table)")
            .string(row: 0, column: 0) == "1,2")
        _ = try await session.executeUnsafeScript(
            "DROP FUNCTION \(table)_conflict(); DROP SEQUENCE \(table)_calls; DROP TABLE \(table)"
        )
        await session.close()
        await client.shutdown()
    }

    @Test func batchWhoseSessionIsTerminatedIsRunAgainWhole() async throws {
        let client = PostgresClient(configuration: ClientTestServer.configuration())
        let table = ClientTestServer.uniqueTable("batch_killed")
        let killer = try await ClientTestServer.session()
        _ = try await killer.executeUnsafeScript("CREATE TABLE \(table) (id int); CREATE SEQUENCE \(table)_runs")
        let killing = Task {
            // Terminate the first run while it sleeps; the second does not sleep.
            while !Task.isCancelled {
                let killed = try await killer.execute("""
                    SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                    WHERE wait_event = 'PgSleep' AND query LIKE $1
                    """, parameters: [.text("%\(table)_runs%")])
                if killed.string(row: 0, column: 0) == "1" { return }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        try await client.batch([
            "INSERT INTO \(unsafeRaw: table) VALUES (1)",
            "SELECT pg_sleep(CASE WHEN nextval('\(unsafeRaw: table)_runs') = 1 THEN 30 ELSE 0 END)",
            "INSERT INTO \(unsafeRaw: table) VALUES (2)",
        ])
        killing.cancel()
        _ = try? await killing.value
        #expect(try await killer.execute("SELECT last_value FROM \(table)_runs").string(row: 0, column: 0) == "2")
        #expect(try await killer.execute("SELECT string_agg(id::text, ',' ORDER BY id) FROM \(table)")
            .string(row: 0, column: 0) == "1,2")
        _ = try await killer.executeUnsafeScript("DROP TABLE \(table); DROP SEQUENCE \(table)_runs")
        await killer.close()
        await client.shutdown()
    }

    @Test func permanentFailureNamesTheStatementAndCommitsNothing() async throws {
        let client = PostgresClient(configuration: ClientTestServer.configuration())
        let table = ClientTestServer.uniqueTable("batch_unique")
        try await client.execute("CREATE TABLE \(unsafeRaw: table) (id int PRIMARY KEY)")
        let error = await #expect(throws: PostgresError.self) {
            try await client.batch([
                "INSERT INTO \(unsafeRaw: table) VALUES (\(1))",
                "INSERT INTO \(unsafeRaw: table) VALUES (\(2))",
                "INSERT INTO \(unsafeRaw: table) VALUES (\(1))",
            ])
        }
        #expect(error?.errorClass == .permanent)
        #expect(error?.attempts == 1)
        #expect(error?.sqlState == "23505")
        #expect(error?.lastFailure?.statementIndex == 2)
        #expect(error?.mayHaveBeenApplied == false)
        let count = try await client.query("SELECT count(*)::int8 FROM \(unsafeRaw: table)", options: .readOnly)
        #expect(try count[0].decode(Int.self, column: 0) == 0)
        try await client.execute("DROP TABLE \(unsafeRaw: table)")
        await client.shutdown()
    }

    @Test func transactionBatchJoinsTheBlock() async throws {
        let client = PostgresClient(configuration: ClientTestServer.configuration())
        let table = ClientTestServer.uniqueTable("tx_batch")
        try await client.execute("CREATE TABLE \(unsafeRaw: table) (id int)")
        struct Abandon: Error {}
        await #expect(throws: Abandon.self) {
            try await client.transaction { tx in
                try await tx.batch((1...3).map { "INSERT INTO \(unsafeRaw: table) VALUES (\($0))" })
                throw Abandon()
            }
        }
        let total = try await client.transaction { tx in
            let rows = try await tx.batch((1...3).map { "INSERT INTO \(unsafeRaw: table) VALUES (\($0)) RETURNING id" })
            return try rows.map { try $0[0].decode(Int.self, column: 0) }.reduce(0, +)
        }
        #expect(total == 6)
        let count = try await client.query("SELECT count(*)::int8 FROM \(unsafeRaw: table)", options: .readOnly)
        #expect(try count[0].decode(Int.self, column: 0) == 3)
        try await client.execute("DROP TABLE \(unsafeRaw: table)")
        await client.shutdown()
    }

    @Test func connectionsThatDoNotPipelineRunTheBatchInATransaction() async throws {
        // The fault injector does not pipeline: it fails the first statement it is given (the batch's BEGIN) with a
        // serialization failure, as if the server had; the client runs the batch again, one statement at a time.
        let faults = FaultInjector()
        faults.failStatement(number: 1, with: .serializationFailure)
        let client = PostgresClient.testing(ClientTestServer.configuration(), injecting: faults)
        let rows = try await client.batch(["SELECT \(1)", "SELECT \(2)"])
        #expect(try rows.map { try $0[0].decode(Int.self, column: 0) } == [1, 2])
        // BEGIN (failed), then BEGIN, two statements and COMMIT.
        #expect(faults.statements.map(\.sql) == ["BEGIN", "BEGIN", "SELECT $1", "SELECT $1", "COMMIT"])
        await client.shutdown()
    }
}
