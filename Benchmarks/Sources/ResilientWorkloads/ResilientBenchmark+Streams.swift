import BenchmarkSupport
import ResilientPostgres

/// `stream_rows`, `copy_in` and `stream_rss` through `PostgresClient.rows` and `PostgresClient.copyIn`.
extension ResilientBenchmark {
    func runStreaming(_ workload: Workload) async throws -> WorkloadRun {
        switch workload {
        case .streamRows:
            return try await withClient { client in
                try await streamRows(client, count: 10_000)
                let timing = try await Stopwatch.time { try await streamRows(client, count: Workload.streamedRows) }
                return WorkloadRun(operations: workload.operations, timing: timing)
            }
        case .copyIn:
            return try await withClient { client in
                for sql in StreamWorkloads.copyTableSQL { try await client.execute("\(unsafeRaw: sql)") }
                try await copy(client, count: 10_000)
                try await client.execute("TRUNCATE bench_copy")
                let timing = try await Stopwatch.time { try await copy(client, count: Workload.streamedRows) }
                return WorkloadRun(operations: workload.operations, timing: timing)
            }
        case .streamRSS:
            return try await withClient { client in
                var short = 0
                let timing = try await Stopwatch.time {
                    try await streamRows(client, count: Workload.streamRSSShortRun)
                    short = MemoryUsage.current().peakResidentKiB
                    try await streamRows(client, count: Workload.streamRSSLongRun)
                }
                return WorkloadRun(
                    operations: workload.operations, timing: timing,
                    rssAfterShortRunKiB: short, rssAfterLongRunKiB: MemoryUsage.current().peakResidentKiB
                )
            }
        default:
            preconditionFailure("\(workload) is not a streaming workload")
        }
    }

    private func streamRows(_ client: PostgresClient, count: Int) async throws {
        var rows = 0
        var idSum = 0
        for try await row in try await client.rows(
            "SELECT i, repeat('x', 100) FROM generate_series(1, \(count)::int4) AS i", options: .readOnly
        ) {
            let (id, name) = try row.decode((Int, String).self)
            idSum += id
            rows += 1
            blackHole(name)
        }
        guard rows == count, idSum == StreamWorkloads.idSum(count) else {
            throw WrongAnswer("the stream of \(count) rows gave \(rows)")
        }
    }

    private func copy(_ client: PostgresClient, count: Int) async throws {
        let copied = try await client.copyIn(
            "\(unsafeRaw: StreamWorkloads.copySQL)", from: CopyTextChunks(count: count)
        )
        guard copied == count else { throw WrongAnswer("COPY of \(count) rows copied \(copied)") }
    }
}
