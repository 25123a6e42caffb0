import ResilientPostgres
import ResilientPostgresTesting
import Testing
import TestSupport

/// Cancelling the caller's task ends an operation at once, wherever it waits.
@Suite("Cancellation", .capturingLogs)
struct CancellationTests {
    @Test func cancellingDuringABackoffEndsTheOperationAtOnce() async throws {
        let database = ScriptedDatabase()
        database.fail("UPDATE accounts", with: .serializationFailure)
        let events = EventLog()
        let client = PostgresClient.testing(database) { $0.onAttempt = events.record }

        let transaction = Task {
            try await client.transaction { tx in _ = try await tx.execute("UPDATE accounts SET balance = \(0)") }
        }
        let backoff = try await database.clock.nextSleep()
        transaction.cancel()
        let error = await #expect(throws: PostgresError.self) { try await transaction.value }
        #expect(error?.errorClass == .cancelled)
        #expect(error?.reason == .cancelled)
        #expect(error?.lastFailure?.sqlState == "40001")
        #expect(database.clock.pendingSleeps.isEmpty)
        #expect(database.clock.elapsed == .zero)
        #expect(events.outcomes == [.willRetry(delay: backoff.duration, reconnects: false), .gaveUp(.cancelled)])
        await client.shutdown()
    }

    @Test func cancellingWhileWaitingForTheProberEndsTheOperationAtOnce() async throws {
        let database = ScriptedDatabase()
        database.beginOutage()
        let events = EventLog()
        let client = PostgresClient.testing(database) { $0.onAttempt = events.record }

        let query = Task { try await client.query("SELECT 1", options: .readOnly) }
        // The pool's timer, set for the prober's next reconnect, which the operation waits for.
        _ = try await database.clock.waitForSleeps(count: 1)
        query.cancel()
        let error = await #expect(throws: PostgresError.self) { try await query.value }
        #expect(error?.errorClass == .cancelled)
        #expect(error?.lastFailure?.message == "Connection refused")
        #expect(database.clock.pendingSleeps.count == 1)
        #expect(events.outcomes.last == .gaveUp(.cancelled))
        await client.shutdown()
        #expect(database.clock.pendingSleeps.isEmpty)
    }
}
