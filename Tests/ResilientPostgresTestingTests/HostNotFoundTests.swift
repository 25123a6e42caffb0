import ResilientPostgres
import ResilientPostgresTesting
import Testing
import TestSupport

/// A host name that does not exist fails at once only if it never resolved for the client.
@Suite("Host not found", .capturingLogs)
struct HostNotFoundTests {
    /// A name that never resolved for the client fails at once, without waiting or retrying.
    @Test func nameThatNeverResolvedForTheClientFailsAtOnce() async throws {
        let database = ScriptedDatabase()
        database.failNextConnect(with: .hostNotFound)
        let client = PostgresClient.testing(database)

        let error = await #expect(throws: PostgresError.self) {
            try await client.query("SELECT 1", options: .readOnly)
        }
        #expect(error?.errorClass == .hostNotFound)
        #expect(error?.reason == .permanent)
        #expect(error?.attempts == 1)
        #expect(error?.elapsed == .zero)
        #expect(error?.lastFailure?.hostNamesNotFound == ["db.test"])
        #expect(database.connects.count == 1)
        await client.shutdown()
    }

    /// A name that resolved before for the client is retried: DNS changes during a failover.
    @Test func nameThatResolvedBeforeForTheClientIsRetried() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT balance", with: .value(100))
        let client = PostgresClient.testing(database) { $0.retryPolicy.maxAttempts = 2 }
        _ = try await client.query("SELECT balance", options: .readOnly)
        // The session is lost, and the name no longer resolves when the client reconnects.
        database.terminateSessions()
        database.failNextConnect(with: .hostNotFound)

        let error = await #expect(throws: PostgresError.self) {
            try await client.query("SELECT balance", options: .readOnly)
        }
        #expect(error?.history.map(\.errorClass) == [.serverWentAway, .unreachable])
        #expect(error?.errorClass == .unreachable)
        #expect(error?.reason == .attemptLimitReached)
        #expect(error?.lastFailure?.message.hasSuffix("Name or service not known") == true)
        #expect(error?.lastFailure?.hostNamesNotFound == [])
        await client.shutdown()
    }
}
