import BenchmarkSupport
import ResilientPostgres

extension ResilientBenchmark {
    /// Every query in one `PostgresClient.batch` call (one libpq pipeline, one transaction), each answer checked.
    func batch(_ client: PostgresClient, count: Int) async throws {
        let queries: [PostgresQuery] = (0..<count).map { number in "SELECT \(number)::int4 + 1" }
        let results = try await client.batch(queries, options: .readOnly)
        guard results.count == count else { throw WrongAnswer("\(results.count) results to \(count) queries") }
        for (number, rows) in results.enumerated() {
            let answer = try rows[0].decode(Int.self, column: 0)
            guard rows.count == 1, answer == number + 1 else { throw WrongAnswer("\(number) + 1 answered \(answer)") }
        }
    }
}
