import Foundation
import HASupport
import ResilientPostgres
import Synchronization

/// Many app instances, each a `PostgresClient` with its own pool, each running a steady mix of reads and
/// idempotent writes: `workers` loops per instance, each one operation every `interval`.
final class FleetWorkload: Sendable {
    struct Settings: Sendable {
        var clients = 200
        var pool = 4
        var workers = 2
        var interval: Duration = .seconds(2)
        /// The client's default: idle sessions stay open for 30 s, as an app's do.
        var idleTimeout: Duration = .seconds(30)
        /// The most connects each client makes at once (`maxConcurrentConnects`); nil for no limit.
        var connectLimit: Int? = 2

        static let usage = """
            usage: Fleet [--clients 200] [--pool 4] [--workers 2] [--interval-ms 2000] [--idle-ms 30000] \
            [--connect-limit 2|none]
            """

        /// Reads `--name value` pairs; nil when one is unknown or malformed.
        static func parse(_ arguments: [String]) -> Settings? {
            var settings = Settings()
            var remaining = arguments[...]
            while let flag = remaining.popFirst() {
                guard let value = remaining.popFirst() else { return nil }
                if flag == "--connect-limit", value == "none" {
                    settings.connectLimit = nil
                    continue
                }
                guard let number = Int(value), number > 0 else { return nil }
                switch flag {
                case "--clients": settings.clients = number
                case "--pool": settings.pool = number
                case "--workers": settings.workers = number
                case "--interval-ms": settings.interval = .milliseconds(number)
                case "--idle-ms": settings.idleTimeout = .milliseconds(number)
                case "--connect-limit": settings.connectLimit = number
                default: return nil
                }
            }
            return settings
        }
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
        configuration.maxConcurrentConnects = settings.connectLimit ?? .max
        configuration.logger.logLevel = .critical
        clients = (0..<settings.clients).map { _ in PostgresClient(configuration: configuration) }
        records = (0..<settings.clients).map { _ in Record() }
    }

    static func prepare(_ admin: PostgresClient, user: String) async throws {
        try await admin.execute("DROP TABLE IF EXISTS fleet_items")
        try await admin.execute("CREATE TABLE fleet_items (client int, n int, PRIMARY KEY (client, n))")
        try await admin.execute("GRANT SELECT, INSERT ON fleet_items TO \(unsafeRaw: user)")
    }

    /// Runs every instance's workers until `stop` is raised; they start spread over one interval.
    func run(until stop: StopSignal) async {
        await withTaskGroup(of: Void.self) { group in
            for (index, client) in clients.enumerated() {
                for worker in 0..<settings.workers {
                    group.addTask { [settings, records] in
                        let slot = index * settings.workers + worker
                        try? await Task.sleep(
                            for: settings.interval * (Double(slot) / Double(settings.clients * settings.workers))
                        )
                        await Self.work(as: index, worker: worker, client: client, record: records[index], settings, stop)
                    }
                }
            }
        }
    }

    /// One worker: an operation every interval until told to stop; keys are unique per worker.
    private static func work(
        as index: Int, worker: Int, client: PostgresClient, record: Record, _ settings: Settings, _ stop: StopSignal
    ) async {
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
                        INSERT INTO fleet_items VALUES (\(index), \(number * settings.workers + worker)) \
                        ON CONFLICT DO NOTHING
                        """, options: .idempotent)
                }
                record.seen.withLock { $0.successes.append(Date()) }
            } catch {
                record.seen.withLock { $0.failures.append(String(describing: error)) }
            }
            try? await Task.sleep(until: started + settings.interval)
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
