import ResilientPostgres
import ResilientPostgresTesting
import Testing
import TestSupport

/// One time budget per operation, and a throttle shared by all of them.
@Suite("Budget and throttle", .capturingLogs)
struct BudgetAndThrottleTests {
    @Test func budgetRunsOutWithTheHistoryOfEveryAttempt() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT balance", with: .value(100))
        database.fail("SELECT balance", with: .backendTerminated, times: 100)
        let client = PostgresClient.testing(database) { configuration in
            configuration.retryPolicy = RetryPolicy(backoff: .constant(.milliseconds(500)), budget: .seconds(2))
            configuration.retryThrottle = nil
        }

        let query = Task { try await client.query("SELECT balance FROM accounts WHERE id = \(1)", options: .readOnly) }
        // The first drop reconnects at once; then every retry waits 500 ms, until the next wait would end at 2 s.
        for _ in 0..<3 {
            let backoff = try await database.clock.nextSleep()
            #expect(backoff.duration == .milliseconds(500))
            database.clock.advance(to: backoff.deadline)
        }
        let error = await #expect(throws: PostgresError.self) { try await query.value }

        #expect(error?.errorClass == .serverWentAway)
        #expect(error?.reason == .budgetExhausted)
        #expect(error?.mayHaveBeenApplied == false)
        #expect(error?.attempts == 5)
        #expect(error?.history.map(\.number) == [1, 2, 3, 4, 5])
        #expect(error?.history.map(\.delay) == [.zero, .milliseconds(500), .milliseconds(500), .milliseconds(500), nil])
        #expect(error?.history.map(\.elapsed) == [.zero, .zero, .milliseconds(500), .seconds(1), .milliseconds(1500)])
        #expect(error?.history.allSatisfy { $0.sqlState == "57P01" && $0.phase == .sent } == true)
        #expect(error?.elapsed == .milliseconds(1500))
        #expect(database.connects.count == 5)
        #expect(database.clock.pendingSleeps.isEmpty)
        await client.shutdown()
    }

    @Test func attemptLimitEndsTheOperationBeforeTheBudget() async throws {
        let database = ScriptedDatabase()
        database.fail("SELECT balance", with: .backendTerminated, times: 100)
        let client = PostgresClient.testing(database) { $0.retryPolicy.maxAttempts = 2 }

        let error = await #expect(throws: PostgresError.self) {
            try await client.query("SELECT balance FROM accounts", options: .readOnly)
        }
        #expect(error?.reason == .attemptLimitReached)
        #expect(error?.attempts == 2)
        await client.shutdown()
    }

    @Test func throttleStopsRetriesWhenMostAttemptsFailAndSuccessesRefillIt() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT balance", with: .value(100))
        let client = PostgresClient.testing(database) { configuration in
            // Retries are allowed while more than 2 of the 4 tokens remain; a success gives half a token back.
            configuration.retryThrottle = RetryThrottleSettings(maxTokens: 4, tokenRatio: 0.5)
        }
        let balance: PostgresQuery = "SELECT balance FROM accounts WHERE id = \(1)"

        // 4 tokens -> 3 (retry) -> 2: the second failure is not retried.
        database.fail("SELECT balance", with: .backendTerminated, times: 2)
        let first = await #expect(throws: PostgresError.self) { try await client.query(balance, options: .readOnly) }
        #expect(first?.reason == .throttled)
        #expect(first?.errorClass == .serverWentAway)
        #expect(first?.attempts == 2)

        // 2 -> 1: not even one retry now.
        database.fail("SELECT balance", with: .backendTerminated)
        let second = await #expect(throws: PostgresError.self) { try await client.query(balance, options: .readOnly) }
        #expect(second?.reason == .throttled)
        #expect(second?.attempts == 1)

        // Five successes bring 1 back to 3.5; a failure then leaves 2.5, and is retried.
        for _ in 0..<5 { _ = try await client.query(balance, options: .readOnly) }
        database.fail("SELECT balance", with: .backendTerminated)
        let rows = try await client.query(balance, options: .readOnly)
        #expect(try rows.decode(Int.self) == [100])
        // Two, one, five successes, and the retried one.
        let sent: Int = database.statements(matching: "SELECT balance").count
        #expect(sent == 10)
        await client.shutdown()
    }
}
