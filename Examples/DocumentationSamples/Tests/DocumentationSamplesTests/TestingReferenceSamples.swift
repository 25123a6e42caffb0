import ResilientPostgres
import ResilientPostgresTesting
import Testing

/// The samples of the Testing product's doc comments, each in a test that runs it.
@Suite("Testing product samples")
struct TestingReferenceSamples {
    /// `ScriptedDatabase`: a fault planned for a statement meets the first matching one only.
    @Test func scriptedDatabase() async throws {
        let database = ScriptedDatabase()
        database.answer("INSERT INTO payments", with: .inserted(1))
        database.fail("INSERT INTO payments", with: .connectionLostAfterSend)   // the first one only
        let client = PostgresClient.testing(database)

        let inserted = try await database.clock.run {
            try await client.execute("INSERT INTO payments VALUES (1)", options: .idempotent)
        }
        #expect(inserted == 1)
        #expect(database.statements(matching: "INSERT INTO payments").count == 2)
        await client.shutdown()
    }

    /// `ScriptedAnswer`: rows decode as a server's would, and a command answers its count.
    @Test func scriptedAnswer() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT id, amount FROM payments", with: .rows(["id", "amount"], [[1, 1200], [2, 800]]))
        database.answer("INSERT INTO payments", with: .inserted(1))
        let client = PostgresClient.testing(database)

        let rows = try await client.query("SELECT id, amount FROM payments", options: .readOnly)
        #expect(try rows.decode((Int, Int).self).map { [$0.0, $0.1] } == [[1, 1200], [2, 800]])
        #expect(try await client.execute("INSERT INTO payments VALUES (3, 500)") == 1)
        await client.shutdown()
    }

    /// `BoundValue`: a recorded parameter decodes as the server would read it.
    @Test func boundValue() async throws {
        let database = ScriptedDatabase()
        database.answer("INSERT INTO payments", with: .inserted(1))
        let client = PostgresClient.testing(database)
        try await client.execute("INSERT INTO payments (key) VALUES (\("order-42"))")

        let insert = database.statements(matching: "INSERT INTO payments").last!
        #expect(try insert.parameters[0].decode(String.self) == "order-42")
        await client.shutdown()
    }

    /// `ManualClock`: a backoff is a sleep on the clock, which the test ends by moving the clock.
    @Test func manualClock() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT amount FROM payments", with: .value(1200, column: "amount"))
        database.fail("SELECT amount FROM payments", with: .serializationFailure)
        let client = PostgresClient.testing(database)
        let clock = database.clock
        let query = Task { try await client.query("SELECT amount FROM payments", options: .readOnly) }

        let sleep = try await clock.nextSleep()   // the client is backing off
        clock.advance(to: sleep.deadline)         // and now it is not

        #expect(try await query.value.decode(Int.self) == [1200])
        await client.shutdown()
    }

    /// `ManualClock.run(for:timeout:)` and `run(timeout:_:)`: an outage waited out, with no real time passing.
    @Test func manualClockRun() async throws {
        let database = ScriptedDatabase()
        database.answer("INSERT INTO payments", with: .inserted(1))
        database.beginOutage()
        let client = PostgresClient.testing(database)
        let clock = database.clock

        let insert = Task { try await client.execute("INSERT INTO payments VALUES (1)", options: .idempotent) }
        try await clock.run(for: .seconds(20))     // 20 seconds of outage
        database.endOutage()
        let inserted = try await clock.run { try await insert.value }

        #expect(inserted == 1)
        #expect(clock.elapsed >= .seconds(20))
        await client.shutdown()
    }

    /// `FaultInjector`: a client of a real server whose statements meet planned faults. Making it connects nowhere.
    @Test func faultInjector() async throws {
        let configuration = try PostgresClient.Configuration("host=db.invalid dbname=app user=app")

        let faults = FaultInjector()
        faults.fail("INSERT INTO payments", with: .connectionLostAfterSend)
        let client = PostgresClient.testing(configuration, injecting: faults)

        await client.shutdown()
        #expect(faults.connects.isEmpty)
    }
}
