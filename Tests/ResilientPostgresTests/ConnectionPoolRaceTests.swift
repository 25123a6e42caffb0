import ResilientPostgres
import ResilientPostgresTesting
import Testing

/// The pool's driver under real concurrency: whatever order a shutdown, a cancellation, a hand-off and a session
/// coming back land in, every operation ends once, and no session is left open or lost.
@Suite("Connection pool races")
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
            // Had a session or its slot been lost to a cancelled waiter, the others would wait out their budget: the
            // clock moves when nothing else can, so that they would then fail instead of hanging.
            let outcomes = try await database.clock.run {
                var outcomes: [Result<PostgresRows, any Error>] = []
                for operation in operations { outcomes.append(await operation.result) }
                outcomes.append(await Task {
                    try await client.query("SELECT balance FROM accounts", options: .readOnly)
                }.result)
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
