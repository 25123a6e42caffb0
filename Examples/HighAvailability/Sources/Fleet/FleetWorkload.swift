import Foundation
import HASupport
import ResilientPostgres
import Synchronization

/// Many app instances, each a `PostgresClient` with its own pool, each running a steady mix of reads and
/// idempotent writes: `workers` loops per instance, each one operation every `interval`. One process runs a share
/// of the fleet's instances (see `FleetProcesses`), and reports what each saw when told to stop.
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
        /// How long each client holds a wave of connects at most (`connectJitter`): with the connect limit, the
        /// setting under which no operation failed in the fleet's measured runs.
        var connectJitter: Duration = .seconds(1)
        /// How many processes share the instances, so that one process's I/O threads do not bound the connect
        /// rate the server sees.
        var processes = 4
        /// How long the fleet runs before the first event; the steady state is measured over its last 10 s, so it
        /// must be at least the idle timeout and 10 s more (the pools filled, the idle sessions timed out).
        var warmUp: Duration = .seconds(60)
        /// How long the fleet runs after each event before the next one (or the end): every instance must have
        /// been served again within it.
        var settle: Duration = .seconds(60)
        /// In a process of the fleet: the index of its first instance (the others follow).
        var firstIndex: Int?

        static let usage = """
            usage: Fleet [--clients 200] [--pool 4] [--workers 2] [--interval-ms 2000] [--idle-ms 30000] \
            [--connect-limit 2|none] [--connect-jitter-ms 1000] [--processes 4] [--warm-up-s 60] [--settle-s 60]
            (the warm-up at least the idle timeout and 10 s)
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
                guard let number = Int(value), number >= 0 else { return nil }
                switch flag {
                case "--connect-jitter-ms": settings.connectJitter = .milliseconds(number)
                case "--first-index": settings.firstIndex = number
                default: guard number > 0 else { return nil }
                }
                switch flag {
                case "--connect-jitter-ms", "--first-index": break
                case "--processes": settings.processes = number
                case "--warm-up-s": settings.warmUp = .seconds(number)
                case "--settle-s": settings.settle = .seconds(number)
                case "--clients": settings.clients = number
                case "--pool": settings.pool = number
                case "--workers": settings.workers = number
                case "--interval-ms": settings.interval = .milliseconds(number)
                case "--idle-ms": settings.idleTimeout = .milliseconds(number)
                case "--connect-limit": settings.connectLimit = number
                default: return nil
                }
            }
            let steadyBeforeTheEvents = settings.warmUp >= settings.idleTimeout + .seconds(10)
            guard settings.firstIndex != nil || steadyBeforeTheEvents else { return nil }
            return settings
        }

        /// The arguments of a process that runs `clients` instances from `firstIndex` on.
        func arguments(clients: Int, firstIndex: Int) -> [String] {
            [
                "--clients", "\(clients)", "--first-index", "\(firstIndex)", "--pool", "\(pool)",
                "--workers", "\(workers)", "--interval-ms", "\(Int(interval / .milliseconds(1)))",
                "--idle-ms", "\(Int(idleTimeout / .milliseconds(1)))",
                "--connect-limit", connectLimit.map(String.init) ?? "none",
                "--connect-jitter-ms", "\(Int(connectJitter / .milliseconds(1)))",
            ]
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
    private let firstIndex: Int

    init(connection: String, settings: Settings) throws {
        self.settings = settings
        firstIndex = settings.firstIndex ?? 0
        var configuration = try PostgresClient.Configuration(connection)
        configuration.maxConnections = settings.pool
        configuration.idleTimeout = settings.idleTimeout
        configuration.maxConcurrentConnects = settings.connectLimit ?? .max
        configuration.connectJitter = settings.connectJitter
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
            for (offset, client) in clients.enumerated() {
                let index = firstIndex + offset
                for worker in 0..<settings.workers {
                    group.addTask { [settings, records] in
                        let slot = offset * settings.workers + worker
                        try? await Task.sleep(
                            for: settings.interval * (Double(slot) / Double(settings.clients * settings.workers))
                        )
                        await Self.work(
                            as: index, worker: worker, client: client, record: records[offset], settings, stop
                        )
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

    /// What each instance saw, as lines for the process that started this one: `s INDEX SECONDS` for each
    /// success (seconds since 1970), `f INDEX DESCRIPTION` for each failure.
    var report: String {
        var lines: [String] = []
        for (offset, record) in records.enumerated() {
            let seen = record.seen.withLock { $0 }
            for success in seen.successes {
                lines.append("s \(firstIndex + offset) \(String(format: "%.3f", success.timeIntervalSince1970))")
            }
            for failure in seen.failures {
                lines.append("f \(firstIndex + offset) \(failure.replacingOccurrences(of: "\n", with: " "))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
