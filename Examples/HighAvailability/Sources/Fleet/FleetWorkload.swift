import Foundation
import HASupport
import ResilientPostgres
import Synchronization

/// Many app instances, each a `PostgresClient` with its own pool, each running a steady mix of reads and
/// idempotent writes, one operation every `interval`.
final class FleetWorkload: Sendable {
    struct Settings: Sendable {
        var clients = 200
        var pool = 4
        var interval: Duration = .seconds(3)
        var idleTimeout: Duration = .milliseconds(500)
    }

    /// What one instance saw.
    private final class Record: Sendable {
        struct Seen {
            var successes: [Date] = []
            var failures: [String] = []
        }
        let seen = Mutex(Seen())
    }

    private let clients: [PostgresClient]
    private let records: [Record]
    private let settings: Settings

    init(connection: String, settings: Settings) throws {
        self.settings = settings
        var configuration = try PostgresClient.Configuration(connection)
        configuration.maxConnections = settings.pool
        configuration.idleTimeout = settings.idleTimeout
        configuration.logger.logLevel = .critical
        clients = (0..<settings.clients).map { _ in PostgresClient(configuration: configuration) }
        records = (0..<settings.clients).map { _ in Record() }
    }

    static func prepare(_ admin: PostgresClient, user: String) async throws {
        try await admin.execute("DROP TABLE IF EXISTS fleet_items")
        try await admin.execute("CREATE TABLE fleet_items (client int, n int, PRIMARY KEY (client, n))")
        try await admin.execute("GRANT SELECT, INSERT ON fleet_items TO \(unsafeRaw: user)")
    }

    /// Runs every instance until `stop` is raised; instances start spread over one interval.
    func run(until stop: StopSignal) async {
        await withTaskGroup(of: Void.self) { group in
            for (index, client) in clients.enumerated() {
                group.addTask { [settings, records] in
                    try? await Task.sleep(for: settings.interval * (Double(index) / Double(settings.clients)))
                    var number = 0
                    while !stop.isRaised {
                        number += 1
                        let started = ContinuousClock.now
                        do {
                            if number.isMultiple(of: 2) {
                                _ = try await client.query(
                                    "SELECT count(*) FROM fleet_items WHERE client = \(index)", options: .readOnly
                                )
                            } else {
                                try await client.execute("""
                                    INSERT INTO fleet_items VALUES (\(index), \(number)) ON CONFLICT DO NOTHING
                                    """, options: .idempotent)
                            }
                            records[index].seen.withLock { $0.successes.append(Date()) }
                        } catch {
                            records[index].seen.withLock { $0.failures.append(String(describing: error)) }
                        }
                        try? await Task.sleep(until: started + settings.interval)
                    }
                }
            }
        }
    }

    func shutdown() async {
        for client in clients { await client.shutdown() }
    }

    var failures: [String] { records.flatMap { $0.seen.withLock { $0.failures } } }
    var operations: Int { records.reduce(0) { $0 + $1.seen.withLock { $0.successes.count + $0.failures.count } } }

    /// When every instance had succeeded at least once after `instant`, or nil if some never did.
    func wholeFleetServing(after instant: Date) -> Date? {
        var latest = instant
        for record in records {
            guard let first = record.seen.withLock({ $0.successes.first { $0 >= instant } }) else { return nil }
            latest = max(latest, first)
        }
        return latest
    }
}
