import BenchmarkSupport
import Foundation
import Logging
import ResilientPostgres

/// The workloads through ResilientPostgres's `PostgresClient`, with its default configuration (pool, retry
/// policy, keepalives, `target_session_attrs=read-write`), as an app would use it.
public struct ResilientBenchmark: BenchmarkSystem {
    let settings: ServerSettings
    let logger: Logger

    public init(settings: ServerSettings) {
        self.settings = settings
        var logger = Logger(label: "ResilientPostgres")
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
        case .seqParamOnSessionThread:
            return try await withClient { client in
                try await client.withSessionThread {
                    try await selectParam(client, first: 0, count: Workload.warmupQueries)
                    let timing = try await Stopwatch.time {
                        try await selectParam(client, first: 0, count: workload.operations)
                    }
                    return WorkloadRun(operations: workload.operations, timing: timing)
                }
            }
        case .seqSelect1OnIOThreads, .seqParamOnIOThreads, .concurrent8OnIOThreads, .rows10kOnIOThreads,
            .streamRowsOnIOThreads:
            // The same workload: what differs is the process's global executor, installed by the child.
            return try await run(workload.comparedWith)
        case .rows10k:
            return try await withClient { client in
                try await readRows(client, times: 2)
                let timing = try await Stopwatch.time { try await readRows(client, times: Workload.reads) }
                return WorkloadRun(operations: workload.operations, timing: timing)
            }
        case .pipelineParam:
            return try await withClient { client in
                try await batch(client, count: Workload.warmupQueries)
                let timing = try await Stopwatch.time { try await batch(client, count: workload.operations) }
                return WorkloadRun(operations: workload.operations, timing: timing)
            }
        case .insertTransaction:
            return try await withClient { client in
                try await insertTransaction(client, count: 500)
                try await client.execute("TRUNCATE bench_insert")
                let timing = try await Stopwatch.time {
                    try await insertTransaction(client, count: workload.operations)
                }
                return WorkloadRun(operations: workload.operations, timing: timing)
            }
        case .transactionPlain, .transactionVerified:
            return try await withClient { client in
                try await transactions(workload, client)
            }
        case .concurrent8:
            return try await withClient(maxConnections: Workload.concurrency) { client in
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
        case .listenNotify:
            return try await withClient { client in try await listenNotify(client, count: workload.operations) }
        case .streamRows, .copyIn, .streamRSS:
            return try await runStreaming(workload)
        case .seqParamFloor, .seqParamFloorOnThread:
            throw WorkloadUnavailable("the floors are libpq driven from Swift")
        case .policy:
            let configuration = try clientConfiguration()
            PolicyBookkeeping.run(configuration: configuration, iterations: 10_000)
            let timing = await Stopwatch.time {
                PolicyBookkeeping.run(configuration: configuration, iterations: workload.operations)
            }
            return WorkloadRun(operations: workload.operations, timing: timing)
        }
    }

    // MARK: - Workloads

    private func selectOne(_ client: PostgresClient, count: Int) async throws {
        for _ in 0..<count {
            let rows = try await client.query("SELECT 1", options: .readOnly)
            let answer = try rows[0].decode(Int.self, column: 0)
            guard rows.count == 1, answer == 1 else { throw WrongAnswer("SELECT 1 answered \(answer)") }
        }
    }

    func selectParam(_ client: PostgresClient, first: Int, count: Int) async throws {
        for number in first..<(first + count) {
            let rows = try await client.query("SELECT \(number)::int4 + 1", options: .readOnly)
            let answer = try rows[0].decode(Int.self, column: 0)
            guard rows.count == 1, answer == number + 1 else { throw WrongAnswer("\(number) + 1 answered \(answer)") }
        }
    }

    private func readRows(_ client: PostgresClient, times: Int) async throws {
        for _ in 0..<times {
            let rows = try await client.query("SELECT id, name, created FROM bench_rows", options: .readOnly)
            let decoded = try rows.decode((Int, String, Date).self)
            let idSum = decoded.reduce(0) { $0 + $1.0 }
            guard decoded.count == Workload.rowsPerRead, idSum == expectedRowIDSum else {
                throw WrongAnswer("bench_rows read \(decoded.count) rows")
            }
            blackHole(decoded)
        }
    }

    private func insertTransaction(_ client: PostgresClient, count: Int) async throws {
        try await client.transaction { transaction in
            for id in 0..<count {
                try await transaction.execute("INSERT INTO bench_insert (id, name) VALUES (\(id), \("name-\(id)"))")
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

    // MARK: - Client

    func clientConfiguration(maxConnections: Int? = nil) throws -> PostgresClient.Configuration {
        var configuration = try PostgresClient.Configuration(settings.connectionString)
        configuration.logger = logger
        if let maxConnections { configuration.maxConnections = maxConnections }
        return configuration
    }

    /// Runs `body` with a client, and shuts the client down afterwards.
    func withClient<Result>(
        maxConnections: Int? = nil,
        _ body: (PostgresClient) async throws -> Result
    ) async throws -> Result {
        let client = PostgresClient(configuration: try clientConfiguration(maxConnections: maxConnections))
        do {
            let result = try await body(client)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }
}

extension ResilientBenchmark {
    /// Makes the process's global executor the I/O threads, for the workloads that ask for it
    /// (``Workload/installsIOThreadsAsGlobalExecutor``); the child calls it before anything else runs.
    public static func installIOThreadsAsGlobalExecutor() -> Bool {
        PostgresClient.unsafeTryInstallIOThreadsAsGlobalExecutor()
    }
}
