import Foundation
import ResilientPostgres
import ResilientPostgresTesting
import Testing
import TestSupport

@Suite("Scripted database", .capturingLogs)
struct ScriptedDatabaseTests {
    @Test func rowsDecodeAsAServersWould() async throws {
        let database = ScriptedDatabase()
        let id = UUID()
        database.answer("SELECT id, key", with: .rows(
            ["id", "key", "amount_cents", "rate", "note", "paid"],
            [[id, "order-1", 1200, 0.25, String?.none, true], [UUID(), "order-2", 800, 1.5, "late", false]]
        ))
        let client = PostgresClient.testing(database)

        let rows = try await client.query(
            "SELECT id, key, amount_cents, rate, note, paid FROM payments", options: .readOnly
        )
        #expect(rows.count == 2)
        #expect(rows.columnNames == ["id", "key", "amount_cents", "rate", "note", "paid"])
        #expect(rows.columnTypes == [.uuid, .text, .int8, .float8, .text, .bool])
        #expect(rows.commandTag == "SELECT 2")
        let decoded = try rows.decode((UUID, String, Int, Double, String?, Bool).self)
        #expect(decoded[0].0 == id)
        #expect(decoded.map(\.1) == ["order-1", "order-2"])
        #expect(decoded.map(\.2) == [1200, 800])
        #expect(decoded.map(\.4) == [nil, "late"])
        #expect(try rows[1].decode(Bool.self, column: "paid") == false)
        await client.shutdown()
    }

    @Test func decodableRowsAndTextRows() async throws {
        struct Payment: Decodable, Equatable {
            var key: String
            var amountCents: Int
        }
        let database = ScriptedDatabase()
        database.answer("SELECT key", with: .textRows(
            [(name: "key", type: .text), (name: "amountCents", type: .int4)], [["order-1", "1200"], ["order-2", "800"]]
        ))
        database.answer("SELECT count", with: .value(2, column: "count"))
        let client = PostgresClient.testing(database)

        let payments = try await client.query(
            "SELECT key, amount_cents AS \"amountCents\" FROM payments", options: .readOnly
        )
        #expect(try payments.decode(Payment.self) == [
            Payment(key: "order-1", amountCents: 1200), Payment(key: "order-2", amountCents: 800),
        ])
        let count = try await client.query("SELECT count(*) FROM payments", options: .readOnly)
        #expect(try count.decode(Int.self) == [2])
        await client.shutdown()
    }

    @Test func answersCanDependOnTheParameters() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT amount_cents FROM payments") { statement in
            let key = try? statement.parameter(0, as: String.self)
            return key == "order-1" ? .value(1200) : .rows(["amount_cents"], [])
        }
        let client = PostgresClient.testing(database)

        func amount(_ key: String) async throws -> PostgresRows {
            try await client.query("SELECT amount_cents FROM payments WHERE key = \(key)", options: .readOnly)
        }
        let found = try await amount("order-1")
        let missing = try await amount("order-9")
        #expect(try found.decode(Int.self) == [1200])
        #expect(missing.isEmpty)
        await client.shutdown()
    }

    @Test func laterAnswerRuleWins() async throws {
        let database = ScriptedDatabase()
        database.answer("UPDATE accounts", with: .updated(1))
        database.answer(.containing("WHERE id = $2 AND frozen"), with: .updated(0))
        let client = PostgresClient.testing(database)
        #expect(try await client.execute("UPDATE accounts SET balance = \(0) WHERE id = \(1)") == 1)
        #expect(try await client.execute("UPDATE accounts SET balance = \(0) WHERE id = \(1) AND frozen") == 0)
        await client.shutdown()
    }

    @Test func recordedParametersDecodeAndDescribeWithoutValues() async throws {
        let database = ScriptedDatabase()
        database.answer("INSERT INTO payments", with: .inserted(1))
        let client = PostgresClient.testing(database)
        let note: String? = nil
        try await client.execute(
            "INSERT INTO payments (key, amount_cents, note) VALUES (\("secret-key"), \(1200), \(note))"
        )

        let insert = try #require(database.statements.first)
        #expect(insert.number == 1)
        #expect(insert.connection == 1)
        #expect(insert.host == "db.test")
        #expect(insert.parameters.count == 3)
        #expect(try insert.parameter(0, as: String.self) == "secret-key")
        #expect(try insert.parameter(1, as: Int.self) == 1200)
        #expect(insert.parameters[2].isNull)
        #expect(try insert.parameter(2, as: String?.self) == nil)
        #expect(insert.parameters[1].type == .int8)
        #expect(!String(describing: insert).contains("secret-key"))
        await client.shutdown()
    }

    @Test func unscriptedStatementFailsPermanentlyAndIsListed() async throws {
        let database = ScriptedDatabase()
        let client = PostgresClient.testing(database)
        let error = await #expect(throws: PostgresError.self) { try await client.execute("DELETE FROM payments") }
        #expect(error?.errorClass == .permanent)
        #expect(error?.sqlState == "XX000")
        #expect(error?.mayHaveBeenApplied == false)
        #expect(database.unscriptedStatements.map(\.sql) == ["DELETE FROM payments"])
        await client.shutdown()
    }

    @Test func hungStatementEndsWhenTheCallerCancels() async throws {
        let database = ScriptedDatabase()
        database.fail("SELECT pg_sleep", with: .hang)
        let client = PostgresClient.testing(database)

        let query = Task { try await client.query("SELECT pg_sleep(\(3600))", options: .readOnly) }
        try await database.waitForStatements(count: 1)
        query.cancel()
        let error = await #expect(throws: PostgresError.self) { try await query.value }
        #expect(error?.errorClass == .cancelled)
        #expect(error?.reason == .cancelled)
        #expect(error?.lastFailure?.sqlState == "57014")
        #expect(error?.lastFailure?.code == .cancelled)
        #expect(error?.lastFailure?.isConnectionUsable == true)
        // The session answered the cancel and stays in the pool.
        #expect(database.openSessions == [1])
        await client.shutdown()
    }

    @Test func slowStatementAnswersOnceTheClockHasMoved() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT balance", with: .value(100))
        database.fail("SELECT balance", with: .slow(.seconds(3)))
        let client = PostgresClient.testing(database)

        let query = Task { try await client.query("SELECT balance FROM accounts", options: .readOnly) }
        let wait = try await database.clock.nextSleep()
        #expect(wait.duration == .seconds(3))
        database.clock.advance(by: .seconds(3))
        #expect(try await query.value.decode(Int.self) == [100])
        await client.shutdown()
    }

    @Test func slowConnectOpensOnceTheClockHasMoved() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT balance", with: .value(100))
        database.failNextConnect(with: .slow(.seconds(2)))
        let client = PostgresClient.testing(database)

        let query = Task { try await client.query("SELECT balance FROM accounts", options: .readOnly) }
        let wait = try await database.clock.nextSleep()
        #expect(wait.duration == .seconds(2))
        #expect(database.connects.map(\.outcome) == [.inProgress])
        database.clock.advance(by: .seconds(2))
        #expect(try await query.value.decode(Int.self) == [100])
        #expect(database.connects.map(\.outcome) == [.opened])
        await client.shutdown()
    }

    @Test func silentPeerFailsAtTheConnectTimeout() async throws {
        let database = ScriptedDatabase()
        database.failNextConnect(with: .timeout)
        let client = PostgresClient.testing(database) { configuration in
            configuration.connectTimeout = .seconds(5)
            configuration.retryPolicy.maxAttempts = 1
        }

        let query = Task { try await client.query("SELECT 1", options: .readOnly) }
        let wait = try await database.clock.nextSleep()
        #expect(wait.duration == .seconds(5))
        database.clock.advance(to: wait.deadline)
        let error = await #expect(throws: PostgresError.self) { try await query.value }
        #expect(error?.errorClass == .unreachable)
        #expect(error?.lastFailure?.code == .connectDeadlineExceeded)
        #expect(database.connects.map(\.outcome) == [.failed])
        await client.shutdown()
    }

    @Test func outageTerminatesOpenSessionsAndRefusesNewOnes() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT balance", with: .value(100))
        let client = PostgresClient.testing(database) { $0.retryPolicy.maxAttempts = 2 }
        _ = try await client.query("SELECT balance FROM accounts", options: .readOnly)

        database.beginOutage()
        let error = await #expect(throws: PostgresError.self) {
            try await client.query("SELECT balance FROM accounts", options: .readOnly)
        }
        // The idle session's next statement met the shutdown; reconnecting was refused.
        #expect(error?.history.map(\.errorClass) == [.serverWentAway, .unreachable])
        #expect(error?.history.first?.sqlState == "57P01")
        #expect(error?.lastFailure?.message == "Connection refused")
        #expect(error?.lastFailure?.hint == "Is the server running on that host and accepting TCP/IP connections?")
        #expect(database.connects.map(\.fault) == [nil, .connectionRefused])
        await client.shutdown()
    }

    @Test func waitsForConnectsAndStatementsFailAtTheirTimeoutSayingWhatTheySaw() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT balance", with: .value(100))
        let client = PostgresClient.testing(database)
        _ = try await client.query("SELECT balance FROM accounts", options: .readOnly)

        let connects = await #expect(throws: WaitTimeout.self) {
            try await database.waitForConnects(count: 2, timeout: .milliseconds(20))
        }
        #expect(
            connects?.description == "waited 0.02 s for 2 connects; 1 so far, the last: connect #1 to db.test: opened"
        )
        let statements = await #expect(throws: WaitTimeout.self) {
            try await database.waitForStatements(count: 3, timeout: .milliseconds(20))
        }
        #expect(statements?.expected == "3 statements")
        #expect(statements?.observed.hasPrefix("1 so far, the last: ") == true)
        await client.shutdown()
    }
}
