import ResilientPostgres
import ResilientPostgresTesting
import Testing
import TestSupport

/// The closure APIs called from actors: the closures use the actor's own state, run on the actor, hand back values
/// that are not `Sendable`, and are still run again when a failure allows it. That this file compiles in Swift 6
/// mode is half of the test.
@Suite("Closures in the caller's isolation", .capturingLogs)
struct IsolationTests {
    /// A database whose first transfer and first settings read lose their session (they run again on a new one), and
    /// which finds no payment when asked.
    static func database() -> ScriptedDatabase {
        let database = ScriptedDatabase()
        database.answer("UPDATE accounts", with: .updated(1))
        database.fail("UPDATE accounts", with: .backendTerminated)
        database.answer("SHOW statement_timeout", with: .rows(["statement_timeout"], [["5s"]]))
        database.fail("SHOW statement_timeout", with: .backendTerminated)
        database.answer("INSERT INTO payments", with: .inserted(1))
        database.answer(.prefix("SELECT 1 FROM payments"), with: .rows(["?column?"], []))
        return database
    }

    @Test @MainActor func mainActorClassRunsEveryClosureOnTheMainActor() async throws {
        let database = Self.database()
        let client = PostgresClient.testing(database)
        let store = LedgerStore(client: client)

        let transfer = try await store.transfer(cents: 100)
        #expect(transfer.lines == ["transfer 100 (run 2)"])
        #expect(store.balance == -100)
        let setting = try await store.statementTimeout()
        #expect(setting.lines == ["statement_timeout 5s (run 2)"])
        // The payment's answer to `COMMIT` is lost: the check finds it not applied, and it runs again.
        database.fail("COMMIT", with: .connectionLostAfterSend)
        let payment = try await store.pay(key: "order-1", cents: 500)
        #expect(payment.value?.lines == ["payment order-1 (run 2)"])
        #expect(store.verifications == 1)
        let settled = try await store.settle(keys: ["order-2", "order-3"])
        #expect(settled.lines == ["order-2", "order-3"])
        #expect(store.settledKeys == ["order-2", "order-3"])
        // A single write whose answer is lost: checked, found not applied, and run again.
        database.fail("INSERT INTO payments", with: .connectionLostAfterSend)
        #expect(try await store.payOnce(key: "order-4", cents: 5) == .completed(1))
        #expect(store.verifications == 2)

        // Each block ran twice (once more after each failure) and changed the store every time.
        #expect(store.runs == 6)
        #expect(database.statements(matching: "COMMIT").count == 3)
        #expect(database.statements(matching: "INSERT INTO payments").count == 6)
        await client.shutdown()
    }

    @Test @MainActor func clockRunsItsOperationOnTheMainActor() async throws {
        let database = ScriptedDatabase()
        database.answer("UPDATE accounts", with: .updated(1))
        // A conflict: the block runs again after a backoff, which only the clock's moving ends.
        database.fail("UPDATE accounts", with: .serializationFailure)
        let client = PostgresClient.testing(database)
        let store = LedgerStore(client: client)

        let lines = try await database.clock.run {
            MainActor.assertIsolated()
            return try await store.transfer(cents: 100).lines
        }
        #expect(lines == ["transfer 100 (run 2)"])
        #expect(store.balance == -100)
        #expect(database.clock.elapsed > .zero)
        await client.shutdown()
    }

    @Test func actorRunsEveryClosureOnItself() async throws {
        let database = Self.database()
        let client = PostgresClient.testing(database)
        let ledger = Ledger(client: client)

        let transfer = try await ledger.transfer(cents: 100)
        #expect(transfer == ["transfer 100 (run 2)"])
        let setting = try await ledger.statementTimeout()
        #expect(setting == ["statement_timeout 5s (run 2)"])
        database.fail("COMMIT", with: .connectionLostAfterSend)
        let payment = try await ledger.pay(key: "order-1", cents: 500)
        #expect(payment == ["payment order-1 (run 2)"])
        let settled = try await ledger.settle(keys: ["order-2", "order-3"])
        #expect(settled == ["order-2", "order-3"])
        #expect(await ledger.settledKeys == ["order-2", "order-3"])
        #expect(await ledger.runs == 6)
        #expect(await ledger.verifications == 1)
        await client.shutdown()
    }
}

/// What an app hands back from a closure: a class with mutable state, so not `Sendable`.
final class Receipt {
    var lines: [String] = []
}

/// A view model as an app writes one: isolated to the main actor, its state changed from inside the closures.
@MainActor
final class LedgerStore {
    let client: PostgresClient
    var balance = 0
    var runs = 0
    var verifications = 0
    var settledKeys: [String] = []

    init(client: PostgresClient) {
        self.client = client
    }

    func transfer(cents: Int) async throws -> Receipt {
        let first = runs
        return try await client.transaction { tx in
            MainActor.assertIsolated()
            runs += 1
            let receipt = Receipt()
            try await tx.execute("UPDATE accounts SET balance = balance - \(cents) WHERE id = \(1)")
            balance -= cents
            receipt.lines.append("transfer \(cents) (run \(runs - first))")
            return receipt
        }
    }

    func statementTimeout() async throws -> Receipt {
        let first = runs
        return try await client.withConnection(options: .readOnly) { connection in
            MainActor.assertIsolated()
            runs += 1
            let value = try await connection.query("SHOW statement_timeout")[0].decode(String.self, column: 0)
            let receipt = Receipt()
            receipt.lines.append("statement_timeout \(value) (run \(runs - first))")
            return receipt
        }
    }

    func pay(key: String, cents: Int) async throws -> VerifiedOutcome<Receipt> {
        let first = runs
        return try await client.transaction(verifyingWith: { client in
            MainActor.assertIsolated()
            verifications += 1
            let found = try await client.query("SELECT 1 FROM payments WHERE key = \(key)", options: .readOnly)
            return found.count == 1
        }) { tx in
            MainActor.assertIsolated()
            runs += 1
            try await tx.execute(insertPayment(key, cents: cents))
            let receipt = Receipt()
            receipt.lines.append("payment \(key) (run \(runs - first))")
            return receipt
        }
    }

    func payOnce(key: String, cents: Int) async throws -> VerifiedOutcome<Int> {
        try await client.execute(insertPayment(key, cents: cents), verifyingWith: { client in
            MainActor.assertIsolated()
            verifications += 1
            let found = try await client.query("SELECT 1 FROM payments WHERE key = \(key)", options: .readOnly)
            return found.count == 1
        })
    }

    func settle(keys: [String]) async throws -> Receipt {
        try await client.withSessionThread {
            MainActor.assertIsolated()
            let receipt = Receipt()
            for key in keys {
                try await client.execute(insertPayment(key, cents: 1))
                settledKeys.append(key)
                receipt.lines.append(key)
            }
            return receipt
        }
    }
}

/// The same calls from an actor of the app's own.
actor Ledger {
    let client: PostgresClient
    var runs = 0
    var verifications = 0
    var settledKeys: [String] = []

    init(client: PostgresClient) {
        self.client = client
    }

    func transfer(cents: Int) async throws -> [String] {
        let first = runs
        let receipt = try await client.transaction { tx in
            assertIsolated()
            runs += 1
            let receipt = Receipt()
            try await tx.execute("UPDATE accounts SET balance = balance - \(cents) WHERE id = \(1)")
            receipt.lines.append("transfer \(cents) (run \(runs - first))")
            return receipt
        }
        return receipt.lines
    }

    func statementTimeout() async throws -> [String] {
        let first = runs
        let receipt = try await client.withConnection(options: .readOnly) { connection in
            assertIsolated()
            runs += 1
            let value = try await connection.query("SHOW statement_timeout")[0].decode(String.self, column: 0)
            let receipt = Receipt()
            receipt.lines.append("statement_timeout \(value) (run \(runs - first))")
            return receipt
        }
        return receipt.lines
    }

    func pay(key: String, cents: Int) async throws -> [String] {
        let first = runs
        let receipt = try await client.transaction(verifyingWith: { client in
            assertIsolated()
            verifications += 1
            let found = try await client.query("SELECT 1 FROM payments WHERE key = \(key)", options: .readOnly)
            return found.count == 1
        }) { tx in
            assertIsolated()
            runs += 1
            try await tx.execute(insertPayment(key, cents: cents))
            let receipt = Receipt()
            receipt.lines.append("payment \(key) (run \(runs - first))")
            return receipt
        }
        return receipt.value?.lines ?? []
    }

    func settle(keys: [String]) async throws -> [String] {
        let receipt = try await client.withSessionThread {
            assertIsolated()
            let receipt = Receipt()
            for key in keys {
                try await client.execute(insertPayment(key, cents: 1))
                settledKeys.append(key)
                receipt.lines.append(key)
            }
            return receipt
        }
        return receipt.lines
    }
}
