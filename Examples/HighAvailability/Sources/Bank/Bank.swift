import Foundation
import HASupport
import ResilientPostgres
import Synchronization

/// A bank that must never lose a cent: workers move money between 100 accounts in transaction blocks while the
/// cluster is disrupted (see ``BankCluster``: pg_auto_failover's failovers, a scripted failover of a primary and
/// standby, or restarts of a small server), in each isolation (SERIALIZABLE; READ COMMITTED with
/// `SELECT ... FOR UPDATE`) and each commit verification (looked up, or reported unknown). After each run the total
/// must be unchanged, no account below zero, every balance must match the transfer log, every acknowledged transfer
/// must be in the log once, every unknown one once or not at all, every failed one not at all. One line a run:
/// `<isolation> <verification>: transfers=N acknowledged=N unknown=N balance_ok=true lost=0 duplicated=0`.
///
/// A run passes only if some transfer was acknowledged after its last disruption (proof that the bank recovered);
/// after that disruption, the workers have up to ``recoveryLimit`` to get one through.
///
/// usage: Bank [DISRUPTIONS_PER_RUN (2)] [SECONDS_BETWEEN_DISRUPTIONS (2)] [RUNS (4): the first RUNS of the four]
@main
struct Bank {
    static let accounts = 100
    static let opening = 1_000
    static let workers = 12
    /// How long after its last disruption a run waits for the first acknowledged transfer.
    static let recoveryLimit = Duration.seconds(60)

    static func main() async {
        let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
        let disruptionsPerRun = arguments.first ?? 2
        let pause = Duration.seconds(arguments.dropFirst().first ?? 2)
        let modes = Transfer.Isolation.allCases.flatMap { isolation in
            CommitVerification.allCases.map { (isolation, $0) }
        }
        let runs = arguments.dropFirst(2).first ?? modes.count
        do {
            guard let cluster = try BankCluster.fromProcess() else { exit(2) }
            try await cluster.prepare()
            // The kinds of disruption take turns across the runs.
            let kinds = cluster.disruptions
            var disruptionsSoFar = 0
            var passed = true
            for (isolation, verification) in modes.prefix(runs) {
                let disruptions = (0..<disruptionsPerRun).map { kinds[(disruptionsSoFar + $0) % kinds.count] }
                disruptionsSoFar += disruptionsPerRun
                let check = try await run(
                    isolation: isolation, verification: verification, cluster: cluster,
                    disruptions: disruptions, pause: pause
                )
                Timeline.printLine("\(isolation.rawValue) \(verification.rawValue): \(check)")
                for detail in check.details { Timeline.printLine("  \(detail)") }
                passed = passed && check.passed
            }
            await cluster.shutdown()
            exit(passed ? 0 : 1)
        } catch {
            Timeline.printLine("bank failed: \(String(reflecting: error))")
            exit(1)
        }
    }

    static func run(
        isolation: Transfer.Isolation, verification: CommitVerification, cluster: BankCluster,
        disruptions: [String], pause: Duration
    ) async throws -> BankCheck {
        let user = ProcessInfo.processInfo.environment["POSTGRES_APP_USER"] ?? "app"
        let password = ProcessInfo.processInfo.environment["POSTGRES_APP_PASSWORD"] ?? "app-secret"
        let admin = try client(cluster.connection(user: "postgres", password: nil), connections: 1)
        try await admin.execute("DROP TABLE IF EXISTS bank_accounts, bank_transfers")
        try await admin.execute("CREATE TABLE bank_accounts (id int PRIMARY KEY, balance bigint NOT NULL)")
        // No unique key on the log's id: a transfer applied twice must show as two rows, not as an error.
        try await admin.execute("""
            CREATE TABLE bank_transfers (id text NOT NULL, payer int NOT NULL, payee int NOT NULL, amount int NOT NULL)
            """)
        try await admin.execute("CREATE INDEX ON bank_transfers (id)")
        try await admin.execute("""
            INSERT INTO bank_accounts SELECT n, \(opening) FROM generate_series(1, \(accounts)) AS n
            """)
        try await admin.execute("GRANT SELECT, UPDATE ON bank_accounts TO \(unsafeRaw: user)")
        try await admin.execute("GRANT SELECT, INSERT ON bank_transfers TO \(unsafeRaw: user)")
        // Verified commits create their marker table on first use.
        try await admin.execute("GRANT CREATE ON SCHEMA public TO \(unsafeRaw: user)")

        let bank = try client(cluster.connection(user: user, password: password), connections: workers)
        let ledger = Ledger()
        let declined = DeclinedTransfers()
        let stop = StopSignal()
        let label = "\(isolation.rawValue)-\(verification.rawValue)"
        let working = Task {
            await withTaskGroup(of: Void.self) { group in
                for worker in 1...workers {
                    group.addTask {
                        var generator = SystemRandomNumberGenerator()
                        var number = 0
                        while !stop.isRaised {
                            number += 1
                            let from = Int.random(in: 1...accounts, using: &generator)
                            let to = (from + Int.random(in: 1..<accounts, using: &generator) - 1) % accounts + 1
                            let transfer = Transfer(
                                id: "\(label)-\(worker)-\(number)", from: from, to: to,
                                amount: Int.random(in: 1...400, using: &generator)
                            )
                            do {
                                try await verification.commit(transfer, isolation: isolation, through: bank)
                                ledger.acknowledge(transfer.id)
                            } catch let error as PostgresError {
                                ledger.record(transfer.id, error: error)
                                try? await Task.sleep(for: .milliseconds(50))
                            } catch is Transfer.Declined {
                                declined.insert(transfer.id)
                            } catch {
                                fatalError("unexpected error: \(error)")
                            }
                        }
                    }
                }
            }
        }
        for disruption in disruptions {
            try await Task.sleep(for: pause)
            try await cluster.disrupt(disruption)
        }
        let lastDisruption = ContinuousClock.now
        let recoveryEnd = lastDisruption.advanced(by: recoveryLimit)
        while ledger.snapshot.acknowledged.values.allSatisfy({ $0 <= lastDisruption }), .now < recoveryEnd {
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: pause)
        stop.raise()
        await working.value
        await bank.shutdown()
        let check = try await BankCheck.run(
            admin, entries: ledger.snapshot, declined: declined.snapshot, accounts: accounts, opening: opening,
            lastDisruption: lastDisruption
        )
        await admin.shutdown()
        return check
    }

    static func client(_ connection: String, connections: Int) throws -> PostgresClient {
        var configuration = try PostgresClient.Configuration(connection)
        configuration.maxConnections = connections
        configuration.logger.logLevel = .error
        return PostgresClient(configuration: configuration)
    }
}

/// The transfers the app declined (overdrafts): rolled back, so they must not be in the log.
final class DeclinedTransfers: Sendable {
    private let ids = Mutex(Set<String>())
    func insert(_ id: String) { _ = ids.withLock { $0.insert(id) } }
    var snapshot: Set<String> { ids.withLock { $0 } }
}
