import PostgresTransport
import Testing
import TestSupport

@Suite("Named prepared statements against a real server", .capturingLogs, .enabled(if: TestServer.isAvailable, TestServer.skipReason))
struct PreparedStatementTests {
    @Test func reusesThePreparedStatement() async throws {
        let connection = try await TestServer.connect()
        for value in [1, 2, 3] {
            let result = try await connection.executePrepared("SELECT $1::int4 * 2", parameters: [.text(String(value))])
            #expect(result.string(row: 0, column: 0) == String(value * 2))
        }
        // One statement on the server, prepared once and run three times.
        let prepared = try await Self.prepared(on: connection)
        #expect(prepared.map(\.statement) == ["SELECT $1::int4 * 2"])
        #expect(prepared.first?.runs == 3)
        #expect(prepared.first?.name.hasPrefix("resilient_postgres_") == true)
        // The unnamed path leaves nothing behind.
        _ = try await connection.execute("SELECT $1::int4 * 3", parameters: [.text("1")])
        #expect(try await Self.prepared(on: connection).count == 1)
        await connection.close()
    }

    /// On the connection's own thread as from elsewhere, as the client runs statements: there, a statement prepared
    /// already starts without entering the actor, and its failure must reach the cache all the same.
    @Test(arguments: [false, true])
    func preparesAgainAfterDeallocateAll(fromTheConnectionsThread: Bool) async throws {
        let connection = try await TestServer.connect()
        try await withTaskExecutorPreference(fromTheConnectionsThread ? connection.ioThread.taskExecutor : nil) {
            try await Self.preparesAgainAfterDeallocateAll(connection)
        }
        await connection.close()
    }

    private static func preparesAgainAfterDeallocateAll(_ connection: LibPQConnection) async throws {
        let sql = "SELECT $1::text || '!'"
        func run(_ value: String) async throws -> String? {
            try await connection.executeInPlace(prepared: true, sql, parameters: [.text(value)])
                .string(row: 0, column: 0)
        }
        #expect(try await run("a") == "a!")
        _ = try await connection.execute("DEALLOCATE ALL")
        // The server no longer has it: the run fails before anything ran, and the statement is forgotten...
        let error = await #expect(throws: TransportError.self) {
            try await run("b")
        }
        #expect(error?.sqlState == "26000")
        #expect(error?.isConnectionUsable == true)
        // ... so the next run prepares it again.
        #expect(try await run("c") == "c!")
        #expect(try await run("d") == "d!")
        let prepared = try await Self.prepared(on: connection)
        #expect(prepared.map(\.statement) == [sql])
        #expect(prepared.first?.runs == 2)
    }

    @Test(arguments: [false, true])
    func preparesAgainAfterTheResultTypeChanged(fromTheConnectionsThread: Bool) async throws {
        let connection = try await TestServer.connect()
        try await withTaskExecutorPreference(fromTheConnectionsThread ? connection.ioThread.taskExecutor : nil) {
            try await Self.preparesAgainAfterTheResultTypeChanged(connection)
        }
        await connection.close()
    }

    private static func preparesAgainAfterTheResultTypeChanged(_ connection: LibPQConnection) async throws {
        _ = try await connection.execute("CREATE TEMP TABLE shape (a int)")
        _ = try await connection.execute("INSERT INTO shape VALUES (1)")
        #expect(try await connection.executeInPlace(prepared: true, "SELECT * FROM shape").columnCount == 1)
        _ = try await connection.execute("ALTER TABLE shape ADD COLUMN b int DEFAULT 2")
        let error = await #expect(throws: TransportError.self) {
            try await connection.executeInPlace(prepared: true, "SELECT * FROM shape")
        }
        #expect(error?.sqlState == "0A000")
        #expect(error?.isConnectionUsable == true)
        let result = try await connection.executeInPlace(prepared: true, "SELECT * FROM shape")
        #expect(result.columnCount == 2)
        #expect(result.string(row: 0, column: 1) == "2")
        // The stale statement is deallocated along with the next statement prepared.
        _ = try await connection.executeInPlace(prepared: true, "SELECT 'other'")
        let statements = try await Self.prepared(on: connection).map(\.statement)
        #expect(statements.sorted() == ["SELECT 'other'", "SELECT * FROM shape"].sorted())
    }

    @Test func evictsTheLeastRecentlyUsed() async throws {
        let connection = try await TestServer.connect(options: .init(preparedStatementCapacity: 4))
        let statements = (1...10).map { "SELECT \($0) + $1::int4" }
        for (index, sql) in statements.enumerated() {
            let result = try await connection.executePrepared(sql, parameters: [.text("100")])
            #expect(result.string(row: 0, column: 0) == String(index + 101))
        }
        // Touch the oldest of the four kept, so that the next one prepared evicts the second oldest instead.
        _ = try await connection.executePrepared(statements[6], parameters: [.text("0")])
        _ = try await connection.executePrepared(statements[0], parameters: [.text("0")])
        let kept = try await Self.prepared(on: connection)
        #expect(kept.map(\.statement).sorted() == [statements[0], statements[6], statements[8], statements[9]].sorted())
        #expect(kept.first { $0.statement == statements[6] }?.runs == 2)
        // Many more distinct statements than the cache holds: the server never keeps more than four.
        for round in 0..<300 {
            _ = try await connection.executePrepared("SELECT \(round) AS round_\(round)")
        }
        #expect(try await Self.prepared(on: connection).count == 4)
        await connection.close()
    }

    @Test func parameterTypesAreNamedSeparately() async throws {
        let connection = try await TestServer.connect()
        let sql = "SELECT pg_typeof($1)::text"
        let int4 = try await connection.executePrepared(sql, parameters: [.text("7", type: 23)])
        let int8 = try await connection.executePrepared(sql, parameters: [.text("7", type: 20)])
        #expect(int4.string(row: 0, column: 0) == "integer")
        #expect(int8.string(row: 0, column: 0) == "bigint")
        #expect(try await Self.prepared(on: connection).count == 2)
        await connection.close()
    }

    @Test func failedPrepareKeepsNothing() async throws {
        let connection = try await TestServer.connect()
        let error = await #expect(throws: TransportError.self) { try await connection.executePrepared("SELEC 1") }
        #expect(error?.sqlState == .syntaxError)
        #expect(error?.statement == "SELEC 1")
        #expect(error?.statementIndex == nil)
        #expect(error?.isConnectionUsable == true)
        #expect(try await Self.prepared(on: connection).isEmpty)
        // A statement that prepares but fails when run stays prepared.
        let bad = await #expect(throws: TransportError.self) {
            try await connection.executePrepared("SELECT $1::int4", parameters: [.text("x")])
        }
        #expect(bad?.sqlState == "22P02")
        #expect(bad?.statement == "SELECT $1::int4")
        let kept = try await Self.prepared(on: connection)
        #expect(kept.map(\.statement) == ["SELECT $1::int4"])
        #expect(try await connection.executePrepared("SELECT $1::int4", parameters: [.text("5")]).string(row: 0, column: 0) == "5")
        #expect(try await Self.prepared(on: connection).map(\.name) == kept.map(\.name))
        // Run from the cache, the statement's failure names it as well.
        let cached = await #expect(throws: TransportError.self) {
            try await connection.executePrepared("SELECT $1::int4", parameters: [.text("y")])
        }
        #expect(cached?.isCachedStatement == true)
        #expect(cached?.statement == "SELECT $1::int4")
        await connection.close()
    }

    @Test func capacityZeroUsesTheUnnamedStatement() async throws {
        let connection = try await TestServer.connect(options: .init(preparedStatementCapacity: 0))
        #expect(try await connection.executePrepared("SELECT 42").string(row: 0, column: 0) == "42")
        #expect(try await Self.prepared(on: connection).isEmpty)
        await connection.close()
    }

    struct Prepared {
        var name: String
        var statement: String
        var runs: Int
    }

    /// The session's named statements, as `pg_prepared_statements` lists them (not counting this query's own).
    static func prepared(on connection: LibPQConnection) async throws -> [Prepared] {
        let result = try await connection.execute(
            "SELECT name, statement, generic_plans + custom_plans FROM pg_prepared_statements ORDER BY name"
        )
        return (0..<result.rowCount).map { row in
            Prepared(
                name: result.string(row: row, column: 0) ?? "",
                statement: result.string(row: row, column: 1) ?? "",
                runs: Int(result.string(row: row, column: 2) ?? "") ?? -1
            )
        }
    }
}
