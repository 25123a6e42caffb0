import BenchmarkSupport
import LibPQWorkloads

/// `stream_rows`, `copy_in` and `stream_rss` through libpq from C: single-row mode, and PQputCopyData.
extension LibPQBenchmark {
    func runStreaming(_ workload: Workload) async throws -> WorkloadRun {
        let session = try LibPQSession(settings.connectionString)
        let connection = session.raw
        switch workload {
        case .streamRows:
            try streamRows(connection, count: 10_000)
            let timing = try await Stopwatch.time { try streamRows(connection, count: Workload.streamedRows) }
            return WorkloadRun(operations: workload.operations, timing: timing)
        case .copyIn:
            for sql in StreamWorkloads.copyTableSQL { try call { lpqw_exec(connection, sql, &$0) } }
            try copy(connection, count: 10_000)
            try call { lpqw_exec(connection, "TRUNCATE bench_copy", &$0) }
            let timing = try await Stopwatch.time { try copy(connection, count: Workload.streamedRows) }
            return WorkloadRun(operations: workload.operations, timing: timing)
        case .streamRSS:
            var short = 0
            let timing = try await Stopwatch.time {
                try streamRows(connection, count: Workload.streamRSSShortRun)
                short = MemoryUsage.current().peakResidentKiB
                try streamRows(connection, count: Workload.streamRSSLongRun)
            }
            return WorkloadRun(
                operations: workload.operations, timing: timing,
                rssAfterShortRunKiB: short, rssAfterLongRunKiB: MemoryUsage.current().peakResidentKiB
            )
        default:
            preconditionFailure("\(workload) is not a streaming workload")
        }
    }

    private func streamRows(_ connection: OpaquePointer, count: Int) throws {
        var error = lpqw_error()
        var idSum: Int64 = 0
        let rows = lpqw_stream_rows(connection, Int32(count), &idSum, &error)
        guard rows >= 0 else { throw LibPQFailure(error) }
        guard rows == count, idSum == StreamWorkloads.idSum(count) else {
            throw WrongAnswer("the stream of \(count) rows gave \(rows)")
        }
    }

    private func copy(_ connection: OpaquePointer, count: Int) throws {
        var error = lpqw_error()
        let copied = lpqw_copy_in(connection, Int32(count), Int32(StreamWorkloads.chunkSize), &error)
        guard copied >= 0 else { throw LibPQFailure(error) }
        guard copied == count else { throw WrongAnswer("COPY of \(count) rows copied \(copied)") }
    }
}
