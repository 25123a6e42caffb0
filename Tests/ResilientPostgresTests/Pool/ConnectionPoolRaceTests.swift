import ResilientPostgres
import ResilientPostgresTesting
import Testing
import TestSupport

/// The pool's driver under real concurrency: whatever order a shutdown, a cancellation, a hand-off and a session
/// coming back land in, every operation ends once, and no session is left open or lost.
@Suite("Connection pool races", .capturingLogs)
struct ConnectionPoolRaceTests {
    @Test func shutdownRacingSessionsComingBackLeavesNoSessionOpen() async throws {
        for run in 0..<200 {
            let database = ScriptedDatabase()
            database.answer("SELECT balance", with: .value(100))
            let client = PostgresClient.testing(database, randomSeed: UInt64(run)) { $0.maxConnections = 3 }

            let operations = (0..<6).map { _ in
                Task {
                    try await client.withConnection { connection in
                        try await connection.query("SELECT balance FROM accounts").decode(Int.self)
                    }
                }
            }
            for _ in 0..<(run % 13) { await Task.yield() }
            await client.shutdown()
            for operation in operations {
                do {
                    #expect(try await operation.value == [100], "run \(run)")
                } catch let error as PostgresError {
                    // Refused for the shutdown, never left waiting.
                    #expect(error.reason == .permanent, "run \(run)")
                }
            }
            #expect(database.openSessions.isEmpty, "run \(run): \(database.connects)")
        }
    }

    @Test func cancellationsRacingHandOffsLoseNoSession() async throws {
        for run in 0..<100 {
            let database = ScriptedDatabase()
            database.answer("SELECT balance", with: .value(100))
            let client = PostgresClient.testing(database, randomSeed: UInt64(run)) { $0.maxConnections = 1 }

            // One session for all: most operations wait for it, and half of them are cancelled as it goes round.
            let operations = (0..<12).map { _ in
                Task { try await client.query("SELECT balance FROM accounts", options: .readOnly) }
            }
            for (index, operation) in operations.enumerated() where index % 2 == 1 {
                for _ in 0..<((run + index) % 5) { await Task.yield() }
                operation.cancel()
            }
            // Had a session or its slot been lost to a cancelled waiter, the others would wait for ever on a clock
            // that does not move: they must all end within a few seconds of real time.
            let outcomes = try await endingWithin(.seconds(10), orCancelling: operations) {
                var outcomes: [Result<PostgresRows, any Error>] = []
                for operation in operations { outcomes.append(await operation.result) }
                do {
                    let rows = try await client.query("SELECT balance FROM accounts", options: .readOnly)
                    outcomes.append(.success(rows))
                } catch {
                    outcomes.append(.failure(error))
                }
                return outcomes
            }
            for (index, outcome) in outcomes.enumerated() {
                do {
                    #expect(try outcome.get().decode(Int.self) == [100], "run \(run)")
                } catch let error as PostgresError {
                    #expect(index % 2 == 1 && error.reason == .cancelled, "run \(run): operation \(index) \(error)")
                }
            }
            #expect(database.clock.elapsed == .zero, "run \(run)")
            #expect(database.openSessions.count == 1, "run \(run)")
            await client.shutdown()
            #expect(database.openSessions.isEmpty, "run \(run)")
        }
    }
}

/// What `body` returns; when it has not returned within `limit` of real time, `operations` are cancelled (so that
/// `body` ends) and it fails.
private func endingWithin<Value: Sendable, Success: Sendable>(
    _ limit: Duration,
    orCancelling operations: [Task<Success, any Error>],
    _ body: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    try await withThrowingTaskGroup(of: Value?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let value = try await group.next()! else {
            for operation in operations { operation.cancel() }
            throw TimedOut()
        }
        return value
    }
}

private struct TimedOut: Error {}
