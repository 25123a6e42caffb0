import BenchmarkSupport
import ResilientPostgres

extension ResilientBenchmark {
    /// `listen_notify`: a listener (`client.listen(to:)`) receives notifications sent in one statement, checking
    /// their order; warmed up with a smaller round first, untimed.
    func listenNotify(_ client: PostgresClient, count: Int) async throws -> WorkloadRun {
        let options = ListenOptions(bufferCapacity: 4 * count)
        var events = client.listen(to: "bench_notify", options: options).makeAsyncIterator()
        guard case .listening? = try await events.next() else { throw WrongAnswer("the listener did not listen") }
        try await notifyAndReceive(client, &events, count: Workload.warmupQueries)
        let timing = try await Stopwatch.time { try await notifyAndReceive(client, &events, count: count) }
        return WorkloadRun(operations: count, timing: timing)
    }

    private func notifyAndReceive(
        _ client: PostgresClient,
        _ events: inout PostgresNotifications.Iterator,
        count: Int
    ) async throws {
        try await client.execute("SELECT pg_notify('bench_notify', g::text) FROM generate_series(1, \(count)) g")
        for expected in 1...count {
            guard case .notification(let notification)? = try await events.next() else {
                throw WrongAnswer("notification \(expected) did not arrive")
            }
            guard notification.payload == String(expected) else {
                throw WrongAnswer("notification \(expected) arrived as \(notification.payload)")
            }
        }
    }
}
