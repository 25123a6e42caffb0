import Foundation
import ResilientPostgres

/// The mixed operations the workers run, and the schema they run on.
///
/// Two invariants let the soak check that retries neither lose nor repeat work: transfers move money between
/// accounts in a transaction, so the sum of balances never changes; and each counter write adds one, so the counter
/// ends between the writes acknowledged and those plus the ones whose outcome was unknown.
struct Workload: Sendable {
    static let accounts = 20
    static let initialBalance = 1_000

    let client: PostgresClient
    let tally: Tally

    /// Creates the tables afresh and makes commits durable across an immediate shutdown (the test cluster has
    /// `synchronous_commit = off`, which would lose the last acknowledged commits and fail the counter check).
    func prepare() async throws {
        try await client.execute("ALTER SYSTEM SET synchronous_commit = on")
        _ = try await client.query("SELECT pg_reload_conf()")
        try await client.execute("DROP TABLE IF EXISTS soak_accounts, soak_counter, soak_events")
        try await client.execute("CREATE TABLE soak_accounts (id int PRIMARY KEY, balance bigint NOT NULL)")
        try await client.execute("""
            INSERT INTO soak_accounts SELECT g, \(Self.initialBalance) FROM generate_series(1, \(Self.accounts)) g
            """)
        try await client.execute("CREATE TABLE soak_counter (id int PRIMARY KEY, n bigint NOT NULL)")
        try await client.execute("INSERT INTO soak_counter VALUES (1, 0)")
        try await client.execute("CREATE TABLE soak_events (key text PRIMARY KEY, at timestamptz DEFAULT now())")
    }

    /// Runs random operations until `deadline`, recording each outcome.
    func runWorker(until deadline: ContinuousClock.Instant) async {
        while ContinuousClock.now < deadline, !Task.isCancelled {
            let operation = Self.operations.randomElement()!
            do {
                try await run(operation)
                tally.succeeded(operation)
            } catch {
                tally.failed(operation, error)
            }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    static let operations = ["query", "execute", "idempotent execute", "transaction", "concurrent queries"]

    private func run(_ operation: String) async throws {
        switch operation {
        case "query":
            let rows = try await client.query(
                "SELECT count(*)::int8, sum(balance)::int8 FROM soak_accounts", options: .readOnly
            )
            _ = try rows[0].decode((Int, Int).self)
        case "execute":
            do {
                try await client.execute("UPDATE soak_counter SET n = n + 1 WHERE id = 1")
                tally.incrementAcknowledged()
            } catch let error as PostgresError where error.mayHaveBeenApplied {
                tally.incrementOutcomeUnknown()
                throw error
            }
        case "idempotent execute":
            try await client.execute(
                "INSERT INTO soak_events (key) VALUES (\(UUID().uuidString)) ON CONFLICT (key) DO NOTHING",
                options: .idempotent
            )
        case "transaction":
            let from = Int.random(in: 1...Self.accounts)
            let to = from % Self.accounts + 1
            let amount = Int.random(in: 1...10)
            try await client.transaction { tx in
                try await tx.execute("UPDATE soak_accounts SET balance = balance - \(amount) WHERE id = \(from)")
                try await tx.execute("UPDATE soak_accounts SET balance = balance + \(amount) WHERE id = \(to)")
            }
        default:
            try await withThrowingTaskGroup(of: Void.self) { group in
                for value in 1...4 {
                    group.addTask {
                        let rows = try await client.query("SELECT \(value)::int8 * 2", options: .readOnly)
                        _ = try rows[0].decode(Int.self, column: 0)
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    /// Runs `sessions` statements at once, so that the pool holds that many sessions when stats are taken.
    func fillPool(sessions: Int) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<sessions {
                group.addTask { _ = try await client.query("SELECT pg_sleep(0.2)", options: .readOnly) }
            }
            try await group.waitForAll()
        }
    }

    /// The sum of balances and the counter, read after the run.
    func finalState() async throws -> (balances: Int, counter: Int) {
        let rows = try await client.query(
            "SELECT (SELECT sum(balance)::int8 FROM soak_accounts), (SELECT n FROM soak_counter WHERE id = 1)",
            options: .readOnly
        )
        let (balances, counter) = try rows[0].decode((Int, Int).self)
        return (balances, counter)
    }
}
