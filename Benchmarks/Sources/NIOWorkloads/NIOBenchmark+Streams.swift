import BenchmarkSupport
import PostgresNIO

/// `stream_rows`, `copy_in` and `stream_rss` through postgres-nio: its row sequence, which streams with
/// back-pressure, and `PostgresConnection.copyFrom` (text format).
extension NIOBenchmark {
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
                for sql in StreamWorkloads.copyTableSQL { try await client.query("\(unescaped: sql)", logger: logger) }
                try await copy(client, count: 10_000)
                try await client.query("TRUNCATE bench_copy", logger: logger)
                let timing = try await Stopwatch.time { try await copy(client, count: Workload.streamedRows) }
                let rows = try await client.query("SELECT count(*) FROM bench_copy", logger: logger)
                var copied = 0
                for try await count in rows.decode(Int.self) { copied = count }
                guard copied == Workload.streamedRows else { throw WrongAnswer("COPY copied \(copied) rows") }
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
        let rows = try await client.query(
            "SELECT i, repeat('x', 100) FROM generate_series(1, \(count)::int4) AS i", logger: logger
        )
        var received = 0
        var idSum = 0
        for try await (id, name) in rows.decode((Int, String).self) {
            idSum += id
            received += 1
            blackHole(name)
        }
        guard received == count, idSum == StreamWorkloads.idSum(count) else {
            throw WrongAnswer("the stream of \(count) rows gave \(received)")
        }
    }

    private func copy(_ client: PostgresClient, count: Int) async throws {
        let logger = self.logger
        try await client.withConnection { connection in
            try await connection.copyFrom(table: "bench_copy", columns: ["id", "name"], logger: logger) { writer in
                for await chunk in CopyTextChunks(count: count) {
                    try await writer.write(ByteBuffer(bytes: chunk))
                }
            }
        }
    }
}
