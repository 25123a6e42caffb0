import Payments
import ResilientPostgres
import ResilientPostgresTesting
import Testing

@Suite("Payments repository")
struct PaymentsRepositoryTests {
    let payment = Payment(idempotencyKey: "pay-7f3a", accountID: 42, amountCents: 1250)

    /// A database that accepts the repository's statements.
    static func paymentsDatabase() -> ScriptedDatabase {
        let database = ScriptedDatabase()
        database.answer("INSERT INTO payments", with: .inserted(1))
        database.answer("UPDATE accounts", with: .updated(1))
        return database
    }

    @Test func retriedAfterASerializationFailureThenRecorded() async throws {
        let database = Self.paymentsDatabase()
        database.fail("UPDATE accounts", with: .serializationFailure)
        let payments = PaymentsRepository(client: .testing(database))

        let recording = Task { try await payments.record(payment) }
        // The client backs off before running the transaction again: let that time pass, instantly.
        let backoff = try await database.clock.nextSleep()
        database.clock.advance(to: backoff.deadline)

        #expect(try await recording.value == .recorded)
        let inserts = database.statements(matching: "INSERT INTO payments")
        #expect(inserts.count == 2)
        #expect(try inserts.last?.parameter(0, as: String.self) == "pay-7f3a")
        #expect(database.statements(matching: "COMMIT").count == 1)
    }

    /// The README's example: the same lost `COMMIT`, on a database scripted in place.
    @Test func lostCommitOnADatabaseScriptedInPlace() async throws {
        let database = ScriptedDatabase()
        database.answer("INSERT INTO payments", with: .inserted(1))
        database.answer("UPDATE accounts", with: .updated(1))
        database.fail("COMMIT", with: .connectionLostAfterSend)   // the answer to COMMIT is lost: outcome unknown
        let payments = PaymentsRepository(client: .testing(database))

        await #expect(throws: PaymentsError.outcomeUnknown(idempotencyKey: "pay-7f3a")) {
            try await payments.record(payment)
        }
    }

    @Test func lostCommitIsSurfacedAsOutcomeUnknown() async throws {
        let database = Self.paymentsDatabase()
        database.fail("COMMIT", with: .connectionLostAfterSend)
        let payments = PaymentsRepository(client: .testing(database))

        await #expect(throws: PaymentsError.outcomeUnknown(idempotencyKey: "pay-7f3a")) {
            try await payments.record(payment)
        }
        // Not retried: running it again is the caller's decision, with the same key.
        #expect(database.statements(matching: "INSERT INTO payments").count == 1)
    }

    @Test func ninetySecondOutageExhaustsTheBudget() async throws {
        let database = Self.paymentsDatabase()
        database.beginOutage()
        let payments = PaymentsRepository(client: .testing(database))

        let recording = Task { try await payments.record(payment) }
        // The first connect is refused; 90 seconds of outage then pass, instantly, past the 60-second budget.
        try await database.waitForConnects(count: 1)
        database.clock.advance(by: .seconds(90))

        await #expect(throws: PaymentsError.databaseUnavailable) { try await recording.value }
        #expect(database.statements.isEmpty)
    }

    @Test func twentySecondOutageIsWaitedOutThenRecorded() async throws {
        let database = Self.paymentsDatabase()
        database.beginOutage()
        let payments = PaymentsRepository(client: .testing(database))

        let recording = Task { try await payments.record(payment) }
        // 20 seconds of outage pass, instantly: every reconnect of the pool's prober is refused. The clock moves
        // only when everything waits on it, and stops with the prober between two connects.
        try await database.clock.run(for: .seconds(20))
        // The database is back: the prober's next connect succeeds, and the payment is recorded.
        database.endOutage()
        let outcome = try await database.clock.run { try await recording.value }

        #expect(outcome == .recorded)
        #expect(database.clock.elapsed <= .milliseconds(20_500))
        #expect(database.statements(matching: "INSERT INTO payments").count == 1)
    }

    @Test func recordingAgainWithTheSameKeyChangesNothing() async throws {
        let database = Self.paymentsDatabase()
        database.answer("INSERT INTO payments", with: .inserted(0))  // ON CONFLICT DO NOTHING found the key
        let payments = PaymentsRepository(client: .testing(database))

        #expect(try await payments.record(payment) == .alreadyRecorded)
        #expect(database.statements(matching: "UPDATE accounts").isEmpty)
    }

    @Test func amountIsReadBackByKey() async throws {
        let database = Self.paymentsDatabase()
        database.answer("SELECT amount_cents FROM payments") { statement in
            let key = try? statement.parameter(0, as: String.self)
            return key == "pay-7f3a" ? .value(1250, column: "amount_cents") : .rows(["amount_cents"], [])
        }
        let payments = PaymentsRepository(client: .testing(database))

        #expect(try await payments.amountCents(forKey: "pay-7f3a") == 1250)
        #expect(try await payments.amountCents(forKey: "pay-0000") == nil)
    }
}
