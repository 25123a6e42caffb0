import BenchmarkSupport
import Foundation
import Logging
import PostgresNIO

/// The workloads through postgres-nio: its pool (`PostgresClient`) as an app would use it, and one
/// `PostgresConnection` for the pipeline workload, which it queues rather than pipelines.
public struct NIOBenchmark: BenchmarkSystem {
    let settings: ServerSettings
    let logger: Logger

    public init(settings: ServerSettings) {
        self.settings = settings
        var logger = Logger(label: "postgres-nio")
        logger.logLevel = .warning
        self.logger = logger
    }

    public func run(_ workload: Workload) async throws -> WorkloadRun {
        switch workload {
        case .seqSelect1:
            return try await withClient { client in
                try await selectOne(client, count: Workload.warmupQueries)
                let timing = try await Stopwatch.time { try await selectOne(client, count: workload.operations) }
                return WorkloadRun(operations: workload.operations, timing: timing)
            }
        case .seqParam:
            return try await withClient { client in
                try await selectParam(client, first: 0, count: Workload.warmupQueries)
                let timing = try await Stopwatch.time {
                    try await selectParam(client, first: 0, count: workload.operations)
                }
                return WorkloadRun(operations: workload.operations, timing: timing)
            }
        case .rows10k:
            return try await withClient { client in
                try await readRows(client, times: 2)
                let timing = try await Stopwatch.time { try await readRows(client, times: Workload.reads) }
                return WorkloadRun(operations: workload.operations, timing: timing)
            }
        case .pipelineParam:
            return try await pipeline(count: workload.operations)
        case .insertTransaction:
            return try await withClient { client in
                try await insertTransaction(client, count: 500)
                try await client.query("TRUNCATE bench_insert", logger: logger)
                let timing = try await Stopwatch.time {
                    try await insertTransaction(client, count: workload.operations)
                }
                return WorkloadRun(operations: workload.operations, timing: timing)
            }
        case .concurrent8:
            return try await withClient(maximumConnections: Workload.concurrency) { client in
                try await concurrently(client, count: Workload.concurrency * 200)
                let timing = try await Stopwatch.time {
                    try await concurrently(client, count: workload.operations)
                }
                return WorkloadRun(operations: workload.operations, timing: timing)
            }
        case .rssGrowth:
            return try await withClient { client in
                try await selectParam(client, first: 0, count: Workload.warmupQueries)
                var short = 0
                let timing = try await Stopwatch.time {
                    try await selectParam(client, first: 0, count: Workload.rssShortRun)
                    short = MemoryUsage.current().residentKiB
                    try await selectParam(
                        client, first: Workload.rssShortRun, count: Workload.rssLongRun - Workload.rssShortRun
                    )
                }
                return WorkloadRun(
                    operations: workload.operations, timing: timing,
                    rssAfterShortRunKiB: short, rssAfterLongRunKiB: MemoryUsage.current().residentKiB
                )
            }
        case .policy:
            throw WorkloadUnavailable("postgres-nio has no retry policy")
        case .seqParamOnSessionThread:
            throw WorkloadUnavailable("postgres-nio has no session thread to run on")
        case .seqSelect1OnIOThreads, .seqParamOnIOThreads, .concurrent8OnIOThreads, .rows10kOnIOThreads,
            .streamRowsOnIOThreads:
            throw WorkloadUnavailable("postgres-nio has no I/O threads to make the global executor")
        case .listenNotify:
            throw WorkloadUnavailable("listen_notify compares ResilientPostgres with libpq only")
        case .seqParamFloor, .seqParamFloorOnThread:
            throw WorkloadUnavailable("the floors are libpq driven from Swift")
        case .transactionPlain, .transactionVerified:
            throw WorkloadUnavailable("ResilientPostgres's own: the cost of its verified commits")
        case .streamRows, .copyIn, .streamRSS:
            return try await runStreaming(workload)
        }
    }

    // MARK: - Workloads

    private func selectOne(_ client: PostgresClient, count: Int) async throws {
        for _ in 0..<count {
            let rows = try await client.query("SELECT 1", logger: logger)
            var answer = 0
            for try await value in rows.decode(Int.self) { answer = value }
            guard answer == 1 else { throw WrongAnswer("SELECT 1 answered \(answer)") }
        }
    }

    private func selectParam(_ client: PostgresClient, first: Int, count: Int) async throws {
        for number in first..<(first + count) {
            let rows = try await client.query("SELECT \(number)::int4 + 1", logger: logger)
            var answer = 0
            for try await value in rows.decode(Int.self) { answer = value }
            guard answer == number + 1 else { throw WrongAnswer("\(number) + 1 answered \(answer)") }
        }
    }

    private func readRows(_ client: PostgresClient, times: Int) async throws {
        for _ in 0..<times {
            let rows = try await client.query("SELECT id, name, created FROM bench_rows", logger: logger)
            var decoded: [(Int, String, Date)] = []
            decoded.reserveCapacity(Workload.rowsPerRead)
            for try await row in rows.decode((Int, String, Date).self) { decoded.append(row) }
            let idSum = decoded.reduce(0) { $0 + $1.0 }
            guard decoded.count == Workload.rowsPerRead, idSum == expectedRowIDSum else {
                throw WrongAnswer("bench_rows read \(decoded.count) rows")
            }
            blackHole(decoded)
        }
    }

    private func insertTransaction(_ client: PostgresClient, count: Int) async throws {
        let logger = self.logger
        try await client.withTransaction(logger: logger) { connection in
            for id in 0..<count {
                try await connection.query(
                    "INSERT INTO bench_insert (id, name) VALUES (\(id), \("name-\(id)"))", logger: logger
                )
            }
        }
    }

    private func concurrently(_ client: PostgresClient, count: Int) async throws {
        let share = count / Workload.concurrency
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<Workload.concurrency {
                group.addTask { try await selectParam(client, first: task * share, count: share) }
            }
            try await group.waitForAll()
        }
    }

    /// Every query issued at once on one connection, each in a task of its own.
    private func pipeline(count: Int) async throws -> WorkloadRun {
        let configuration = PostgresConnection.Configuration(
            host: settings.host, port: settings.port, username: settings.user, password: nil,
            database: settings.database, tls: .disable
        )
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        do {
            try await issueAtOnce(connection, count: Workload.warmupQueries)
            let timing = try await Stopwatch.time { try await issueAtOnce(connection, count: count) }
            try await connection.close()
            return WorkloadRun(operations: count, timing: timing)
        } catch {
            try? await connection.close()
            throw error
        }
    }

    private func issueAtOnce(_ connection: PostgresConnection, count: Int) async throws {
        let logger = self.logger
        let answered = try await withThrowingTaskGroup(of: Int.self) { group in
            for number in 0..<count {
                group.addTask {
                    let rows = try await connection.query("SELECT \(number)::int4 + 1", logger: logger)
                    var answer = 0
                    for try await value in rows.decode(Int.self) { answer = value }
                    guard answer == number + 1 else { throw WrongAnswer("\(number) + 1 answered \(answer)") }
                    return 1
                }
            }
            return try await group.reduce(0, +)
        }
        guard answered == count else { throw WrongAnswer("\(answered) answers to \(count) queries") }
    }

    // MARK: - Client

    /// Runs `body` with a client whose `run()` goes on in a task of its own until `body` returns.
    func withClient<Result: Sendable>(
        maximumConnections: Int? = nil,
        _ body: (PostgresClient) async throws -> Result
    ) async throws -> Result {
        var configuration = PostgresClient.Configuration(
            host: settings.host, port: settings.port, username: settings.user, password: nil,
            database: settings.database, tls: .disable
        )
        if let maximumConnections { configuration.options.maximumConnections = maximumConnections }
        // postgres-nio warns when a lease comes before `run()` has started; the lease then waits, so here that
        // warning is noise, and only errors are shown.
        var backgroundLogger = logger
        backgroundLogger.logLevel = .error
        let client = PostgresClient(configuration: configuration, backgroundLogger: backgroundLogger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }
}
