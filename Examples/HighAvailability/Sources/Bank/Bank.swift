import Foundation
import HASupport
import ResilientPostgres
import Synchronization

/// A bank that must never lose a cent: workers move money between 100 accounts in transaction blocks while
/// pg_auto_failover fails the primary over, in each isolation (SERIALIZABLE; READ COMMITTED with
/// `SELECT ... FOR UPDATE`) and each commit verification (looked up, or reported unknown). After each run the total
/// must be unchanged, no account below zero, every balance must match the transfer log, every acknowledged transfer
/// must be in the log once, every unknown one once or not at all, every failed one not at all. One line a run:
/// `<isolation> <verification>: transfers=N acknowledged=N unknown=N balance_ok=true lost=0 duplicated=0`.
///
/// usage: Bank [FAILOVERS_PER_RUN (2)] [SECONDS_BETWEEN_FAILOVERS (2)]
@main
struct Bank {
    static let accounts = 100
    static let opening = 1_000
    static let workers = 12

    static func main() async {
        guard let environment = FormationEnvironment.fromProcess() else { exit(2) }
        let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
        let failoversPerRun = arguments.first ?? 2
        let pause = Duration.seconds(arguments.dropFirst().first ?? 2)
        do {
            let formation = try Formation(environment)
            // The kinds of failover take turns across the runs.
            let kinds = environment.failoverKinds
            var failoversSoFar = 0
            var passed = true
            for isolation in Transfer.Isolation.allCases {
                for verification in CommitVerification.allCases {
                    let failovers = (0..<failoversPerRun).map { kinds[(failoversSoFar + $0) % kinds.count] }
                    failoversSoFar += failoversPerRun
                    let check = try await run(
                        isolation: isolation, verification: verification, environment: environment,
                        failovers: failovers, pause: pause, formation: formation
                    )
                    Timeline.printLine("\(isolation.rawValue) \(verification.rawValue): \(check)")
                    for detail in check.details { Timeline.printLine("  \(detail)") }
                    passed = passed && check.passed
                }
            }
            await formation.shutdown()
            exit(passed ? 0 : 1)
        } catch {
            Timeline.printLine("bank failed: \(String(reflecting: error))")
            exit(1)
        }
    }

    static func run(
        isolation: Transfer.Isolation, verification: CommitVerification, environment: FormationEnvironment,
        failovers: [Formation.FailoverKind], pause: Duration, formation: Formation
    ) async throws -> BankCheck {
        let admin = try client(environment.connectionString(user: "postgres"), connections: 1)
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
        try await admin.execute("GRANT SELECT, UPDATE ON bank_accounts TO \(unsafeRaw: environment.user)")
        try await admin.execute("GRANT SELECT, INSERT ON bank_transfers TO \(unsafeRaw: environment.user)")

        let bank = try client(environment.connectionString(), connections: workers)
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
        for kind in failovers {
            try await Task.sleep(for: pause)
            _ = try await formation.failOver(kind)
            try await formation.rejoin()
        }
        try await Task.sleep(for: pause)
        stop.raise()
        await working.value
        await bank.shutdown()
        let check = try await BankCheck.run(
            admin, entries: ledger.snapshot, declined: declined.snapshot, accounts: accounts, opening: opening
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
