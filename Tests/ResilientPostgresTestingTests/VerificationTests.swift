import ResilientPostgres
import ResilientPostgresTesting
import Testing
import TestSupport

/// The verify hook: when an answer is lost, ask the database whether the write took effect.
@Suite("Verifying unknown outcomes", .capturingLogs)
struct VerificationTests {
    static let lookup = "SELECT 1 FROM payments WHERE key"

    /// Checks for the payment by its idempotency key, as an app would.
    static func paymentExists(_ key: String) -> @Sendable (PostgresClient) async throws -> Bool {
        { client in
            try await client.query("SELECT 1 FROM payments WHERE key = \(key)", options: .readOnly).count == 1
        }
    }

    static func database(lookupFinds found: Bool) -> ScriptedDatabase {
        let database = ScriptedDatabase()
        database.answer("INSERT INTO payments", with: .inserted(1))
        database.fail("INSERT INTO payments", with: .connectionLostAfterSend)
        database.answer(.prefix(lookup), with: .rows(["?column?"], found ? [[1]] : []))
        return database
    }

    @Test func appliedWriteReturnsAppliedEarlier() async throws {
        let database = Self.database(lookupFinds: true)
        let events = EventLog()
        let client = PostgresClient.testing(database) { $0.onAttempt = events.record }

        let outcome = try await client.execute(
            insertPayment("order-1", cents: 500), verifyingWith: Self.paymentExists("order-1")
        )

        #expect(outcome == .appliedEarlier)
        #expect(outcome.value == nil)
        #expect(database.statements(matching: "INSERT INTO payments").count == 1)
        let lookups = database.statements(matching: .prefix(Self.lookup))
        #expect(try lookups.map { try $0.parameter(0, as: String.self) } == ["order-1"])
        // The lookup is an operation of its own; then the insert's attempt is reported verified.
        #expect(events.outcomes == [.succeeded, .verifiedApplied])
        await client.shutdown()
    }

    @Test func writeNotAppliedRunsAgain() async throws {
        let database = Self.database(lookupFinds: false)
        let events = EventLog()
        let client = PostgresClient.testing(database) { $0.onAttempt = events.record }

        let outcome = try await client.execute(
            insertPayment("order-1", cents: 500), verifyingWith: Self.paymentExists("order-1")
        )

        #expect(outcome == .completed(1))
        #expect(database.sqlLog.map { String($0.prefix(20)) } == [
            "INSERT INTO payments", "SELECT 1 FROM paymen", "INSERT INTO payments",
        ])
        #expect(events.outcomes == [.succeeded, .verifiedNotApplied, .succeeded])
        await client.shutdown()
    }

    @Test func failingVerificationLeavesTheOutcomeUnknown() async throws {
        let database = Self.database(lookupFinds: true)
        database.fail(.prefix(Self.lookup), with: .sqlState("42P01", message: "relation \"payments\" does not exist"))
        let client = PostgresClient.testing(database)

        let error = await #expect(throws: PostgresError.self) {
            try await client.execute(insertPayment("order-1", cents: 500), verifyingWith: Self.paymentExists("order-1"))
        }
        #expect(error?.errorClass == .outcomeUnknown)
        #expect(error?.reason == .outcomeUnknown)
        #expect(error?.mayHaveBeenApplied == true)
        // The error is about the write, not about the lookup that failed.
        #expect(error?.lastFailure?.code == .connectionLost)
        #expect(database.statements(matching: "INSERT INTO payments").count == 1)
        await client.shutdown()
    }

    @Test func runningAgainAfterVerificationKeepsToTheAttemptLimit() async throws {
        let database = Self.database(lookupFinds: false)
        database.fail("INSERT INTO payments", with: .connectionLostAfterSend, times: 2)
        let events = EventLog()
        let client = PostgresClient.testing(database) { configuration in
            configuration.retryPolicy.maxAttempts = 2
            configuration.onAttempt = events.record
        }

        let error = await #expect(throws: PostgresError.self) {
            try await client.execute(
                insertPayment("order-1", cents: 500), verifyingWith: Self.paymentExists("order-1")
            )
        }
        #expect(error?.reason == .attemptLimitReached)
        #expect(error?.attempts == 2)
        // Both lost attempts were checked and found not applied: nothing is in doubt.
        #expect(error?.mayHaveBeenApplied == false)
        #expect(database.statements(matching: "INSERT INTO payments").count == 2)
        let failures = events.outcomes.filter { $0 != .succeeded }
        #expect(failures == [.verifiedNotApplied, .verifiedNotApplied, .gaveUp(.attemptLimitReached)])
        await client.shutdown()
    }

    @Test func runningAgainAfterVerificationKeepsToTheBudget() async throws {
        let database = Self.database(lookupFinds: false)
        database.fail("INSERT INTO payments", with: .connectionLostAfterSend, times: 100)
        // Each check takes a second.
        database.fail(.prefix(Self.lookup), with: .slow(.seconds(1)), times: 100)
        let client = PostgresClient.testing(database) { $0.retryPolicy.budget = .seconds(2) }

        let insert = Task {
            try await client.execute(
                insertPayment("order-1", cents: 500), verifyingWith: Self.paymentExists("order-1")
            )
        }
        for _ in 0..<2 {
            let check = try await database.clock.nextSleep()
            database.clock.advance(to: check.deadline)
        }
        let error = await #expect(throws: PostgresError.self) { try await insert.value }
        #expect(error?.reason == .budgetExhausted)
        #expect(error?.elapsed == .seconds(2))
        #expect(error?.mayHaveBeenApplied == false)
        #expect(database.statements(matching: "INSERT INTO payments").count == 2)
        await client.shutdown()
    }

    @Test func transactionWhoseCommitWasLostIsVerified() async throws {
        let database = ScriptedDatabase()
        database.answer("INSERT INTO payments", with: .inserted(1))
        database.answer("UPDATE accounts", with: .updated(1))
        database.answer(.prefix(Self.lookup), with: .rows(["?column?"], [[1]]))
        database.fail("COMMIT", with: .connectionLostAfterSend)
        let client = PostgresClient.testing(database)
        let runs = Counter()

        let outcome = try await client.transaction(verifyingWith: Self.paymentExists("order-1")) { tx in
            runs.increment()
            try await tx.execute(insertPayment("order-1", cents: 500))
            try await tx.execute("UPDATE accounts SET balance = balance - \(500) WHERE id = \(1)")
            return "receipt-1"
        }
        #expect(outcome == .appliedEarlier)
        #expect(runs.count == 1)
        await client.shutdown()
    }

    @Test func transactionWhoseCommitDidNotApplyRunsAgain() async throws {
        let database = ScriptedDatabase()
        database.answer("INSERT INTO payments", with: .inserted(1))
        database.answer(.prefix(Self.lookup), with: .rows(["?column?"], []))
        database.fail("COMMIT", with: .connectionLostAfterSend)
        let client = PostgresClient.testing(database)
        let runs = Counter()

        let outcome = try await client.transaction(verifyingWith: Self.paymentExists("order-1")) { tx in
            runs.increment()
            try await tx.execute(insertPayment("order-1", cents: 500))
            return "receipt-\(runs.count)"
        }
        #expect(outcome == .completed("receipt-2"))
        #expect(database.statements(matching: "COMMIT").map(\.connection) == [1, 2])
        await client.shutdown()
    }
}
