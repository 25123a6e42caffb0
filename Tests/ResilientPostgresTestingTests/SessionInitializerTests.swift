import ResilientPostgres
import ResilientPostgresTesting
import Testing
import TestSupport

/// The session initializer sets up every new session, and only new (or reset) ones; a session it fails on is closed,
/// and the failure is classified as a failed connect.
@Suite("Session initializer", .capturingLogs)
struct SessionInitializerTests {
    /// A client whose sessions are set to the `app` schema.
    static func client(_ database: ScriptedDatabase) -> PostgresClient {
        PostgresClient.testing(database) { configuration in
            configuration.sessionInitializer = { session in
                try await session.execute("SET search_path TO app")
            }
        }
    }

    @Test func runsOncePerNewSessionNotPerOperation() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT balance", with: .value(100))
        let client = Self.client(database)
        for _ in 0..<3 {
            _ = try await client.query("SELECT balance FROM accounts", options: .readOnly)
        }
        #expect(database.connects.count == 1)
        #expect(database.statements.map(\.sql) == [
            "SET search_path TO app", "SELECT balance FROM accounts", "SELECT balance FROM accounts",
            "SELECT balance FROM accounts",
        ])
        await client.shutdown()
    }

    @Test func runsAgainOnTheSessionThatReplacesALostOne() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT balance", with: .value(100))
        let client = Self.client(database)
        _ = try await client.query("SELECT balance FROM accounts", options: .readOnly)

        // A restart terminates the session: the query is retried on a new one, set up first.
        database.terminateSessions()
        _ = try await database.clock.run {
            try await client.query("SELECT balance FROM accounts", options: .readOnly)
        }
        let setUps = database.statements(matching: "SET search_path")
        #expect(setUps.map(\.connection) == [1, 2])
        let onSecond = database.statements.filter { $0.connection == 2 }.map(\.sql)
        #expect(onSecond == ["SET search_path TO app", "SELECT balance FROM accounts"])
        await client.shutdown()
    }

    @Test func runsAgainAfterTheResetOfALentSession() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT balance", with: .value(100))
        let client = Self.client(database)
        try await client.withConnection { connection in
            _ = try await connection.execute("SET statement_timeout = 1000")
        }
        // The reset undid every setting, the initializer's too: it runs again before the session is lent.
        _ = try await client.query("SELECT balance FROM accounts", options: .readOnly)
        #expect(database.resetSessions == [1])
        #expect(database.connects.count == 1)
        #expect(database.statements.map(\.sql) == [
            "SET search_path TO app", "SET statement_timeout = 1000", "SET search_path TO app",
            "SELECT balance FROM accounts",
        ])
        await client.shutdown()
    }

    @Test func theProbersSessionIsSetUpToo() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT balance", with: .value(100))
        database.failNextConnect()
        let client = Self.client(database)
        // The refused connect starts an outage: the operation waits for the prober, whose session it is lent.
        let balance = try await database.clock.run {
            try await client.query("SELECT balance FROM accounts", options: .readOnly).decode(Int.self)
        }
        #expect(balance == [100])
        #expect(database.connects.map(\.outcome) == [.failed, .opened])
        #expect(database.statements.map(\.sql) == ["SET search_path TO app", "SELECT balance FROM accounts"])
        #expect(database.statements.allSatisfy { $0.connection == 2 })
        await client.shutdown()
    }

    @Test func aTransientFailureIsRetriedEvenForAWriteAsNothingOfItWasSent() async throws {
        let database = ScriptedDatabase()
        database.answer("INSERT INTO payments", with: .inserted(1))
        database.fail("SET search_path", with: .backendTerminated)
        let client = Self.client(database)
        let inserted = try await database.clock.run {
            try await client.execute(insertPayment("order-1", cents: 500))
        }
        #expect(inserted == 1)
        #expect(database.statements(matching: "INSERT INTO payments").map(\.connection) == [2])
        // The session the initializer failed on was closed, never lent.
        #expect(database.closedSessions == [1])
        #expect(database.openSessions == [2])
        await client.shutdown()
    }

    @Test func aPermanentFailureFailsAtOnceAndClosesTheSession() async throws {
        let database = ScriptedDatabase()
        database.fail("SET search_path", with: .sqlState("42704", message: "unrecognized configuration parameter"))
        let client = Self.client(database)
        let error = try await #require(throws: PostgresError.self) {
            try await client.execute(insertPayment("order-1", cents: 500))
        }
        #expect(error.errorClass == .permanent)
        #expect(error.attempts == 1)
        #expect(error.sqlState == "42704")
        #expect(error.lastFailure?.phase == .connecting)
        #expect(!error.mayHaveBeenApplied)
        #expect(database.statements(matching: "INSERT INTO payments").isEmpty)
        #expect(database.openSessions.isEmpty)
        #expect(database.closedSessions == [1])
        await client.shutdown()
    }

    @Test func anErrorOfTheInitializersOwnEndsTheOperationUnchanged() async throws {
        struct VaultSealed: Error {}
        let database = ScriptedDatabase()
        let client = PostgresClient.testing(database) { configuration in
            configuration.sessionInitializer = { _ in throw VaultSealed() }
        }
        await #expect(throws: VaultSealed.self) {
            try await client.execute(insertPayment("order-1", cents: 500))
        }
        #expect(database.statements.isEmpty)
        #expect(database.openSessions.isEmpty)
        #expect(database.closedSessions == [1])
        await client.shutdown()
    }

    @Test func aSessionLeftInsideATransactionBlockIsRefused() async throws {
        let database = ScriptedDatabase()
        let client = PostgresClient.testing(database) { configuration in
            configuration.sessionInitializer = { session in try await session.execute("BEGIN") }
        }
        let error = try await #require(throws: PostgresError.self) {
            try await client.execute(insertPayment("order-1", cents: 500))
        }
        #expect(error.errorClass == .permanent)
        #expect(error.lastFailure?.code == .connectFailed)
        #expect(database.statements(matching: "INSERT INTO payments").isEmpty)
        #expect(database.openSessions.isEmpty)
        await client.shutdown()
    }
}
