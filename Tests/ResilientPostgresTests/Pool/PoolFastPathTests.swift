import ResilientPostgres
import ResilientPostgresTesting
import Testing
import TestSupport

/// An operation on a warm pool gets its session and gives it back under the pool's lock, without suspending for
/// anything the pool would have to run; a shut-down pool lends nothing, and a session whose epoch was retired while
/// it was lent is closed when it comes back.
@Suite("Pool fast path", .capturingLogs)
struct PoolFastPathTests {
    @Test func aWarmPoolLendsAndTakesBackWithNothingLeftToRun() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT balance", with: .value(100))
        let client = PostgresClient.testing(database) { $0.maxConnections = 1 }
        // The first operation opens the session, which the pool goes on past its lock to do.
        #expect(try await client.query("SELECT balance FROM accounts").decode(Int.self) == [100])
        let continued = client.pool.continuedSteps
        #expect(continued > 0)

        for _ in 0..<3 {
            #expect(try await client.query("SELECT balance FROM accounts").decode(Int.self) == [100])
        }
        #expect(client.pool.continuedSteps == continued, "an idle, fit session is lent and taken back at once")
        #expect(database.connects.count == 1)
        await client.shutdown()
    }

    @Test func aShutDownPoolNeverLends() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT balance", with: .value(100))
        let client = PostgresClient.testing(database) { $0.maxConnections = 1 }
        _ = try await client.query("SELECT balance FROM accounts").decode(Int.self)
        await client.shutdown()
        let statements = database.statements.count

        await #expect(throws: PostgresError.self) {
            try await client.query("SELECT balance FROM accounts").decode(Int.self)
        }
        #expect(database.statements.count == statements)
    }

    @Test func aSessionWhoseEpochIsRetiredWhileLentIsClosedOnReturn() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT balance", with: .value(100))
        let client = PostgresClient.testing(database) { $0.maxConnections = 1 }
        _ = try await client.query("SELECT balance FROM accounts").decode(Int.self)
        let session = try #require(database.openSessions.first)
        let continued = client.pool.continuedSteps

        try await client.withConnection { _ in await client.pool.retireEpoch() }
        #expect(client.pool.continuedSteps == continued + 1, "the return goes on past the lock to close the session")
        #expect(database.closedSessions == [session])
        await client.shutdown()
    }
}
