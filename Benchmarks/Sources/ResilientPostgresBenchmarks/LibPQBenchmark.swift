import BenchmarkSupport
import LibPQWorkloads

/// The workloads through libpq from C (see `LibPQWorkloads`): the baseline. Each C call runs synchronously.
struct LibPQBenchmark: BenchmarkSystem {
    let settings: ServerSettings

    func run(_ workload: Workload) async throws -> WorkloadRun {
        let count = workload.operations
        switch workload {
        case .concurrent8:
            var timing = lpqw_timing()
            try call {
                lpqw_concurrent_param(settings.connectionString, Int32(Workload.concurrency), 200, Int32(count), &timing, &$0)
            }
            return WorkloadRun(
                operations: count,
                timing: Timing(
                    seconds: Double(timing.elapsed_ns) / 1e9, cpuSeconds: timing.cpu_seconds,
                    contextSwitches: Int(timing.context_switches)
                )
            )
        case .policy:
            throw WorkloadUnavailable("libpq has no retry policy")
        case .seqParamOnSessionThread:
            throw WorkloadUnavailable("libpq has no session thread to run on")
        case .seqSelect1OnIOThreads, .seqParamOnIOThreads, .concurrent8OnIOThreads, .rows10kOnIOThreads,
            .streamRowsOnIOThreads:
            throw WorkloadUnavailable("libpq has no I/O threads to make the global executor")
        case .listenNotify:
            let listener = try LibPQSession(settings.connectionString)
            let sender = try LibPQSession(settings.connectionString)
            try call { lpqw_exec(listener.raw, "LISTEN bench_notify", &$0) }
            let warmup = Int32(Workload.warmupQueries)
            try call { lpqw_listen_notify(listener.raw, sender.raw, "bench_notify", warmup, &$0) }
            let timing = try await Stopwatch.time {
                try call { lpqw_listen_notify(listener.raw, sender.raw, "bench_notify", Int32(count), &$0) }
            }
            return WorkloadRun(operations: count, timing: timing)
        case .streamRows, .copyIn, .streamRSS:
            return try await runStreaming(workload)
        case .seqParamFloor, .seqParamFloorOnThread:
            return try await runFloor(workload)
        default:
            break
        }
        let session = try LibPQSession(settings.connectionString)
        let connection = session.raw
        switch workload {
        case .seqSelect1:
            try call { lpqw_select_one(connection, Int32(Workload.warmupQueries), &$0) }
            let timing = try await Stopwatch.time { try call { lpqw_select_one(connection, Int32(count), &$0) } }
            return WorkloadRun(operations: count, timing: timing)
        case .seqParam:
            try selectParam(connection, first: 0, count: Workload.warmupQueries)
            let timing = try await Stopwatch.time { try selectParam(connection, first: 0, count: count) }
            return WorkloadRun(operations: count, timing: timing)
        case .rows10k:
            try readRows(connection, times: 2)
            let timing = try await Stopwatch.time { try readRows(connection, times: Workload.reads) }
            return WorkloadRun(operations: count, timing: timing)
        case .pipelineParam:
            try call { lpqw_pipeline_param(connection, Int32(Workload.warmupQueries), &$0) }
            let timing = try await Stopwatch.time { try call { lpqw_pipeline_param(connection, Int32(count), &$0) } }
            return WorkloadRun(operations: count, timing: timing)
        case .insertTransaction:
            try call { lpqw_insert_transaction(connection, 0, 500, &$0) }
            try call { lpqw_exec(connection, "TRUNCATE bench_insert", &$0) }
            let timing = try await Stopwatch.time {
                try call { lpqw_insert_transaction(connection, 0, Int32(count), &$0) }
            }
            return WorkloadRun(operations: count, timing: timing)
        case .rssGrowth:
            try selectParam(connection, first: 0, count: Workload.warmupQueries)
            var short = 0
            let timing = try await Stopwatch.time {
                try selectParam(connection, first: 0, count: Workload.rssShortRun)
                short = MemoryUsage.current().residentKiB
                try selectParam(connection, first: Workload.rssShortRun, count: Workload.rssLongRun - Workload.rssShortRun)
            }
            return WorkloadRun(
                operations: count, timing: timing,
                rssAfterShortRunKiB: short, rssAfterLongRunKiB: MemoryUsage.current().residentKiB
            )
        case .concurrent8, .policy, .seqParamOnSessionThread, .seqSelect1OnIOThreads, .seqParamOnIOThreads,
            .concurrent8OnIOThreads, .rows10kOnIOThreads, .streamRowsOnIOThreads, .listenNotify, .transactionPlain, .transactionVerified,
            .streamRows, .copyIn, .streamRSS, .seqParamFloor, .seqParamFloorOnThread:
            preconditionFailure("handled above")
        }
    }

    private func selectParam(_ connection: OpaquePointer, first: Int, count: Int) throws {
        try call { lpqw_select_param(connection, Int64(first), Int32(count), &$0) }
    }

    private func readRows(_ connection: OpaquePointer, times: Int) throws {
        var error = lpqw_error()
        let rows = lpqw_read_rows(connection, Int32(times), &error)
        guard rows >= 0 else { throw LibPQFailure(error) }
        guard rows == times * Workload.rowsPerRead else { throw WrongAnswer("bench_rows read \(rows) rows") }
    }
}

/// Calls a workload function, throwing its message when it returns -1.
func call(_ body: (inout lpqw_error) -> Int32) throws {
    var error = lpqw_error()
    guard body(&error) == 0 else { throw LibPQFailure(error) }
}

/// One libpq connection opened by the C workloads, closed when the session goes.
final class LibPQSession {
    let raw: OpaquePointer

    init(_ connectionString: String) throws {
        var error = lpqw_error()
        guard let raw = lpqw_connect(connectionString, &error) else { throw LibPQFailure(error) }
        self.raw = raw
    }

    deinit {
        lpqw_close(raw)
    }

    var serverVersion: Int { Int(lpqw_server_version(raw)) }
}

/// A failure the C workloads reported.
struct LibPQFailure: Error, CustomStringConvertible {
    let description: String

    init(_ error: lpqw_error) {
        description = withUnsafeBytes(of: error.message) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
