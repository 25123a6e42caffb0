import BenchmarkSupport
import ResilientPostgres

extension ResilientBenchmark {
    /// `tx_plain` and `tx_verified`: short transactions of one INSERT each, one after the other, the second with
    /// `OperationOptions.verifiedCommit`; the difference between the two is what a commit marker costs.
    func transactions(_ workload: Workload, _ client: PostgresClient) async throws -> WorkloadRun {
        let options: OperationOptions = workload == .transactionVerified ? .verifiedCommit : .write
        // The warm-up also creates the marker table, on the first verified transaction.
        try await insertEach(client, ids: 0..<200, options: options)
        try await client.execute("TRUNCATE bench_insert")
        let timing = try await Stopwatch.time {
            try await insertEach(client, ids: 0..<workload.operations, options: options)
        }
        return WorkloadRun(operations: workload.operations, timing: timing)
    }

    private func insertEach(_ client: PostgresClient, ids: Range<Int>, options: OperationOptions) async throws {
        for id in ids {
            let inserted = try await client.transaction(options: options) { transaction in
                try await transaction.execute("INSERT INTO bench_insert (id, name) VALUES (\(id), \("name-\(id)"))")
            }
            guard inserted == 1 else { throw WrongAnswer("INSERT of \(id) inserted \(inserted) rows") }
        }
    }
}
