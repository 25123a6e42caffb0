import ResilientPostgres
import ResilientPostgresTesting
import Testing
import TestSupport

/// While the database is down, one prober per pool reconnects; waiting operations do not each hammer it.
@Suite("Outages", .capturingLogs)
struct OutageTests {
    @Test func fiftyWaitingOperationsCauseOneConnectPerReconnectInterval() async throws {
        let operations = 50
        let database = ScriptedDatabase()
        database.answer("SELECT balance", with: .value(100))
        database.beginOutage()
        let client = PostgresClient.testing(database, randomSeed: 1)
        let maxConnections = client.configuration.maxConnections

        let queries = (1...operations).map { id in
            Task { try await client.query("SELECT balance FROM accounts WHERE id = \(id)", options: .readOnly) }
        }
        // Every operation tries at most once and then waits for the prober (waited for in real time, so that a
        // loaded machine cannot have the clock move before they all got there); then 30 seconds of outage, the
        // clock moving from one of the prober's reconnects to the next.
        let givingUp = ContinuousClock.now.advanced(by: .seconds(30))
        while client.poolWaits.waitingOperations < operations, ContinuousClock.now < givingUp {
            try await Task.sleep(for: .milliseconds(1))
        }
        #expect(client.poolWaits.waitingOperations == operations)
        #expect(database.clock.elapsed == .zero)
        // Step from one of the prober's reconnects to the next, each time waiting for the reconnect itself and for
        // the prober's next pause (exact waits, which no loaded machine can race).
        let deadline = database.clock.start.advanced(by: .seconds(60))
        while database.clock.elapsed < .seconds(30) {
            let probe = try await Self.nextProbe(on: database.clock, before: deadline)
            #expect(probe.duration <= .milliseconds(500))
            let seen = database.connects.count
            database.clock.advance(to: probe.deadline)
            _ = try await database.waitForConnects(count: seen + 1)
        }
        let probe = try await Self.nextProbe(on: database.clock, before: deadline)
        let connects = database.connects
        let firstWave = connects.prefix { $0.time == .zero }.count
        #expect(firstWave <= maxConnections + 1)
        // One connect per reconnect interval of at most 500 ms, each at an instant of its own: not one per waiting
        // operation.
        let reconnects = connects.dropFirst(firstWave).map(\.time)
        #expect(reconnects.count >= 60)
        let gaps = zip([Duration.zero] + reconnects, reconnects).map { $1 - $0 }
        #expect(gaps.allSatisfy { $0 > .zero && $0 <= .milliseconds(500) })
        #expect(connects.allSatisfy { $0.outcome == .failed })
        // None of the operations sleeps on the clock: the pool's timer ends their waits, and the prober pauses.
        #expect(database.clock.pendingSleeps.count <= 2)
        #expect(probe.duration <= .milliseconds(500))

        // The database is back: the next reconnect succeeds, and every operation resumes at once.
        database.endOutage()
        let results = try await database.clock.run {
            var results: [[Int]] = []
            for query in queries { results.append(try await query.value.decode(Int.self)) }
            return results
        }
        #expect(results == Array(repeating: [100], count: operations))
        #expect(database.statements(matching: "SELECT balance").count == operations)
        let afterOutage = database.connects.dropFirst(connects.count)
        #expect(afterOutage.count <= maxConnections)
        #expect(afterOutage.allSatisfy { $0.outcome == .opened })
        #expect(database.clock.now == probe.deadline)
        #expect(database.clock.pendingSleeps.isEmpty)
        await client.shutdown()
    }

    @Test func outageLongerThanTheBudgetFailsWithTheLastConnectFailure() async throws {
        let database = ScriptedDatabase()
        database.beginOutage()
        let events = EventLog()
        let client = PostgresClient.testing(database, randomSeed: 2) { $0.onAttempt = events.record }

        // The clock moves through the prober's reconnects until the operation's budget runs out.
        let error = await #expect(throws: PostgresError.self) {
            try await database.clock.run {
                try await client.query("SELECT balance FROM accounts", options: .readOnly)
            }
        }

        #expect(error?.errorClass == .unreachable)
        #expect(error?.reason == .budgetExhausted)
        #expect(error?.elapsed == .seconds(60))
        #expect(error?.lastFailure?.message == "Connection refused")
        #expect(error?.attempts == 1)
        // The prober kept reconnecting through the whole budget (its pace, at most half a second apart, is the
        // pool's tests' to check: how many connects a run shows depends on how the machine scheduled it).
        #expect(database.connects.count > 10)
        #expect((database.connects.last?.time ?? .zero) >= .seconds(59))
        // The refused attempt would have been retried; the operation then gave up waiting for the database.
        #expect(events.all.map(\.outcome.isRetry) == [true, false])
        #expect(events.outcomes.last == .gaveUp(.budgetExhausted))
        #expect(events.all.map(\.attempt) == [1, 2])
        #expect(events.all.last?.errorClass == .unreachable)
        #expect(events.all.last?.elapsed == .seconds(60))
        #expect(database.statements.isEmpty)
        await client.shutdown()
        #expect(database.clock.pendingSleeps.isEmpty)
    }

    @Test func permanentFailureDuringAnOutageFailsEveryWaiter() async throws {
        let database = ScriptedDatabase()
        database.beginOutage()
        let client = PostgresClient.testing(database)

        let queries = (1...3).map { _ in Task { try await client.query("SELECT 1", options: .readOnly) } }
        // All three wait for the prober, whose next reconnect is the one sleep on the clock.
        try await database.clock.run(for: .zero)
        #expect(database.clock.pendingSleeps.count == 1)
        // The server comes back with the app's password changed: retrying cannot help anyone.
        database.beginOutage(.authenticationFailed)
        database.clock.advanceToNextSleep()
        for query in queries {
            let error = await #expect(throws: PostgresError.self) { try await query.value }
            #expect(error?.errorClass == .permanent)
            #expect(error?.sqlState == "28P01")
        }
        await client.shutdown()
    }

    /// The prober's next pause: the earliest sleep on the clock that ends after now and before the operations'
    /// deadline, waited for in real time (it begins once the prober's last reconnect has failed).
    static func nextProbe(on clock: ManualClock, before deadline: ManualClock.Instant) async throws -> ManualClock.Sleep {
        let givingUp = ContinuousClock.now.advanced(by: .seconds(10))
        while true {
            let probes = clock.pendingSleeps.filter { $0.deadline > clock.now && $0.deadline < deadline }
            if let probe = probes.min(by: { $0.deadline < $1.deadline }) { return probe }
            guard ContinuousClock.now < givingUp else {
                throw WaitTimeout(
                    expected: "the prober's next pause", observed: "\(clock.pendingSleeps)", timeout: .seconds(10)
                )
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    /// The documented way to wait out part of an outage, then succeed: `run(for:)` returns with everything settled,
    /// the prober between two connects, so the outage ends without racing it; `run` then moves the clock until
    /// the operation ends. Two hundred runs, each with its own seed and outage length.
    @Test func partOfAnOutageThenSuccessEndsEveryTime() async throws {
        let runs = 200
        // One at a time: the runs move a clock on real pauses, and a machine starved of CPU by many lanes (or by
        // the rest of the suite) could hold a task past the pause that decides nothing else is left to run.
        let lanes = 1
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<lanes {
                group.addTask {
                    for run in stride(from: lane, to: runs, by: lanes) {
                        try await Self.partOfAnOutageThenSuccess(run: run)
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// One run: an outage of up to about 2 seconds, the prober's waits drawn from seed `run`.
    static func partOfAnOutageThenSuccess(run: Int) async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT balance", with: .value(100))
        database.beginOutage()
        let client = PostgresClient.testing(database, randomSeed: UInt64(run))
        let outage = Duration.milliseconds(53 * (run % 37))

        try await shuttingDown(client) {
            let query = Task { try await client.query("SELECT balance FROM accounts", options: .readOnly) }
            try await database.clock.run(for: outage)
            #expect(database.clock.elapsed == outage)
            #expect(database.connects.allSatisfy { $0.outcome == .failed }, "run \(run)")
            database.endOutage()
            let rows = try await database.clock.run { try await query.value }

            #expect(try rows.decode(Int.self) == [100], "run \(run)")
            // The prober's next connect, at most 500 ms after the one before, succeeded.
            #expect(database.clock.elapsed <= outage + .milliseconds(500), "run \(run)")
            #expect(database.connects.last?.outcome == .opened, "run \(run)")
        }
    }

    /// Counting sleeps cannot tell when the outage may end: once the prober's connect succeeds, it never sleeps
    /// again, and a wait for its next sleep fails at its timeout, saying what it saw, instead of hanging.
    @Test func waitForTheProbersNextSleepAfterItConnectedTimesOut() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT balance", with: .value(100))
        database.beginOutage()
        let client = PostgresClient.testing(database)

        let query = Task { try await client.query("SELECT balance FROM accounts", options: .readOnly) }
        try await database.clock.run(for: .seconds(2))
        database.endOutage()
        _ = try await database.clock.run { try await query.value }
        let error = await #expect(throws: WaitTimeout.self) {
            try await database.clock.waitForSleeps(count: 2, timeout: .milliseconds(50))
        }
        #expect(error?.description == "waited 0.05 s for 2 sleeps; none pending")
        await client.shutdown()
    }
}
