import ResilientPostgres
import ResilientPostgresTesting
import Testing
import TestSupport

/// A write is never applied twice, an operation ends within its budget, and what was applied is reported: each case
/// here once broke one of these.
@Suite("Never twice, never late", .capturingLogs)
struct NeverTwiceTests {
    /// Failures that certainly did not apply their own statement, and would re-run a closure that sent nothing else.
    static let failuresOfALaterStatement: [StatementFault] = [
        .serializationFailure, .deadlockDetected, .lockTimeout,
        .sqlState("53200", message: "out of memory"),
        .readOnlyHost, .cachedPlanChanged,
        .sqlState("26000", message: #"prepared statement "s1" does not exist"#),
        .backendTerminated,
    ]

    @Test(arguments: failuresOfALaterStatement)
    func withConnectionWhoseFirstWriteCommittedIsNeverRunAgain(_ fault: StatementFault) async throws {
        let database = ScriptedDatabase()
        database.answer("UPDATE ledger", with: .updated(1))
        database.answer("INSERT INTO audit", with: .inserted(1))
        database.fail("INSERT INTO audit", with: fault)
        let client = PostgresClient.testing(database) { $0.statementCaching = .prepared(capacity: 8) }
        let runs = Counter()

        let error = await #expect(throws: PostgresError.self) {
            try await database.clock.run {
                try await client.withConnection { connection in
                    runs.increment()
                    try await connection.execute("UPDATE ledger SET balance = balance - \(500) WHERE id = \(7)")
                    try await connection.execute("INSERT INTO audit (entry) VALUES (\("debit"))")
                }
            }
        }
        #expect(runs.count == 1)
        #expect(database.statements(matching: "UPDATE ledger").count == 1)
        #expect(error?.mayHaveBeenApplied == true)
        await client.shutdown()
    }

    @Test func withConnectionWhoseEarlierStatementsOnlySetSessionStateRunsAgain() async throws {
        let database = ScriptedDatabase()
        database.answer("INSERT INTO audit", with: .inserted(1))
        database.fail("INSERT INTO audit", with: .serializationFailure)
        let client = PostgresClient.testing(database)
        let runs = Counter()

        try await database.clock.run {
            try await client.withConnection { connection in
                runs.increment()
                try await connection.execute("SET search_path TO audit_schema")
                try await connection.execute("INSERT INTO audit (entry) VALUES (\("debit"))")
            }
        }
        #expect(runs.count == 2)
        await client.shutdown()
    }

    @Test func withConnectionWhoseWritesWereInsideItsOwnBlockRunsAgain() async throws {
        let database = ScriptedDatabase()
        database.answer("UPDATE ledger", with: .updated(1))
        database.fail("UPDATE ledger", with: .deadlockDetected)
        let client = PostgresClient.testing(database)
        let runs = Counter()

        try await database.clock.run {
            try await client.withConnection { connection in
                runs.increment()
                try await connection.execute("BEGIN")
                do {
                    try await connection.execute("UPDATE ledger SET balance = balance - \(500) WHERE id = \(7)")
                } catch {
                    try await connection.execute("ROLLBACK")
                    throw error
                }
                try await connection.execute("COMMIT")
            }
        }
        #expect(runs.count == 2)
        await client.shutdown()
    }

    @Test func transactionThatCommittedByHandIsNeverRunAgain() async throws {
        let database = ScriptedDatabase()
        database.answer("UPDATE ledger", with: .updated(1))
        database.answer("INSERT INTO audit", with: .inserted(1))
        database.fail("INSERT INTO audit", with: .serializationFailure)
        let client = PostgresClient.testing(database)
        let runs = Counter()

        let error = await #expect(throws: PostgresError.self) {
            try await database.clock.run {
                try await client.transaction { tx in
                    runs.increment()
                    try await tx.execute("UPDATE ledger SET balance = balance - \(500) WHERE id = \(7)")
                    try await tx.execute("COMMIT")
                    try await tx.execute("INSERT INTO audit (entry) VALUES (\("debit"))")
                }
            }
        }
        #expect(runs.count == 1)
        #expect(error?.reason == .outcomeUnknown)
        #expect(error?.mayHaveBeenApplied == true)
        await client.shutdown()
    }

    @Test func batchAfterTheAppsOwnRollbackCommittedAndIsNeverRunAgain() async throws {
        let database = ScriptedDatabase()
        database.answer("INSERT INTO audit", with: .inserted(1))
        database.answer("UPDATE ledger", with: .updated(1))
        database.fail("UPDATE ledger", with: .deadlockDetected)
        let client = PostgresClient.testing(database)
        let runs = Counter()

        let error = await #expect(throws: PostgresError.self) {
            try await database.clock.run {
                try await client.transaction { tx in
                    runs.increment()
                    try await tx.execute("ROLLBACK")
                    // Outside the block now: the batch is a transaction of its own, committed at its end.
                    try await tx.batch(["INSERT INTO audit (entry) VALUES (\("debit"))"])
                    try await tx.execute("UPDATE ledger SET balance = balance - \(500) WHERE id = \(7)")
                }
            }
        }
        #expect(runs.count == 1)
        #expect(error?.reason == .outcomeUnknown)
        #expect(error?.mayHaveBeenApplied == true)
        await client.shutdown()
    }

    @Test func blockThatCommittedPartOfItselfIsNotOfferedToItsVerification() async throws {
        let database = ScriptedDatabase()
        database.answer("UPDATE ledger", with: .updated(1))
        database.answer("INSERT INTO audit", with: .inserted(1))
        database.fail("INSERT INTO audit", with: .serializationFailure)
        let client = PostgresClient.testing(database)
        let verifications = Counter()

        let error = await #expect(throws: PostgresError.self) {
            try await database.clock.run {
                try await client.transaction(verifyingWith: { _ in
                    verifications.increment()
                    return false
                }) { tx in
                    try await tx.execute("UPDATE ledger SET balance = balance - \(500) WHERE id = \(7)")
                    try await tx.execute("COMMIT")
                    try await tx.execute("INSERT INTO audit (entry) VALUES (\("debit"))")
                }
            }
        }
        // "Not applied" would be false for the UPDATE, "applied" for the INSERT: the outcome stays unknown.
        #expect(verifications.count == 0)
        #expect(error?.reason == .outcomeUnknown)
        #expect(database.statements(matching: "UPDATE ledger").count == 1)
        await client.shutdown()
    }

    @Test func idempotentWriteThatMayHaveAppliedSaysSoWhenLaterAttemptsCannotConnect() async throws {
        let database = ScriptedDatabase()
        database.answer("INSERT INTO payments", with: .inserted(1))
        // Attempt 1 sends the INSERT and loses its answer; from then on, every connect is refused.
        database.fail("INSERT INTO payments", with: .connectionLostAfterSend)
        for number in 2...2_000 { database.failConnect(number: number, with: .connectionRefused) }
        let client = PostgresClient.testing(database)

        let error = await #expect(throws: PostgresError.self) {
            try await database.clock.run {
                try await client.execute(insertPayment("order-1", cents: 500), options: .idempotent)
            }
        }
        #expect(error?.reason == .budgetExhausted)
        #expect(error?.errorClass == .unreachable)
        // Attempt 1 may have applied the INSERT: a failure to connect afterwards cannot undo that.
        #expect(error?.mayHaveBeenApplied == true)
        #expect(error?.history.first?.phase == .sent)
        await client.shutdown()
    }

    @Test func typoInAnAppsOwnExecuteFailsAtOnceAsPermanent() async throws {
        let database = ScriptedDatabase()
        database.fail("EXECUTE nope", with: .sqlState("26000", message: #"prepared statement "nope" does not exist"#))
        database.answer("SELECT balance", with: .value(100))
        database.fail("SELECT balance", with: .backendTerminated)
        let client = PostgresClient.testing(database)

        let error = await #expect(throws: PostgresError.self) { try await client.execute("EXECUTE nope") }
        #expect(error?.errorClass == .permanent)
        #expect(error?.reason == .permanent)
        #expect(error?.attempts == 1)
        // The throttle was not drained by it: the next safe retry goes ahead.
        let rows = try await client.query("SELECT balance FROM accounts", options: .readOnly)
        #expect(try rows.decode(Int.self) == [100])
        await client.shutdown()
    }

    @Test func verificationSpendsTheOperationsBudgetNotANewOne() async throws {
        let database = ScriptedDatabase()
        database.answer("INSERT INTO payments", with: .inserted(1))
        database.answer("SELECT 1 FROM payments", with: .value(1))
        // A slow connect, the INSERT's answer lost, then the verification's query never answers.
        database.failConnect(number: 1, with: .slow(.seconds(9)))
        database.fail("INSERT INTO payments", with: .connectionLostAfterSend)
        database.fail("SELECT 1 FROM payments", with: .hang)
        let client = PostgresClient.testing(database)

        let error = await #expect(throws: PostgresError.self) {
            try await database.clock.run {
                try await client.execute(insertPayment("order-1", cents: 500), verifyingWith: { client in
                    try await client.query("SELECT 1 FROM payments WHERE key = \("order-1")", options: .readOnly)
                        .count == 1
                })
            }
        }
        #expect(error?.reason == .outcomeUnknown)
        #expect(error?.mayHaveBeenApplied == true)
        #expect(database.clock.elapsed <= .seconds(60))
        await client.shutdown()
    }

    @Test func livenessChecksOfStaleSessionsStayWithinTheBudget() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT balance", with: .value(100))
        let client = PostgresClient.testing(database) { configuration in
            configuration.maxConnections = 20
            configuration.retryPolicy.budget = .seconds(60)
            configuration.idleTimeout = .seconds(300)
        }
        // Twenty sessions open at once, then sit idle past the liveness interval.
        let gate = database.clock
        database.fail("SELECT balance", with: .slow(.seconds(1)), times: 20)
        let queries = (1...20).map { _ in
            Task { try await client.query("SELECT balance FROM accounts", options: .readOnly) }
        }
        try await gate.waitForSleeps(count: 20)
        gate.advance(by: .seconds(1))
        for query in queries { _ = try await query.value }
        #expect(database.openSessions.count == 20)
        gate.advance(by: .seconds(31))

        // The peer hangs: every open session's next statement (its liveness check) never answers.
        database.terminateSessions(with: .hang)
        let start = gate.now
        let rows = try await gate.run {
            try await client.query("SELECT balance FROM accounts", options: .readOnly)
        }
        #expect(try rows.decode(Int.self) == [100])
        // One check's timeout, not one per stale session (20 × 5 s).
        #expect(start.duration(to: gate.now) <= .seconds(6))
        await client.shutdown()
    }

    @Test func aTaskCancelledBeforeItAsksForASessionClosesNone() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT balance", with: .value(100))
        // Idle long enough to be checked before reuse, not so long that the idle timeout closes it.
        let client = PostgresClient.testing(database) { $0.idleTimeout = .seconds(300) }
        _ = try await client.query("SELECT balance FROM accounts", options: .readOnly)
        database.clock.advance(by: .seconds(31))

        let cancelled = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await client.query("SELECT balance FROM accounts", options: .readOnly)
        }
        let error = await #expect(throws: PostgresError.self) { try await cancelled.value }
        #expect(error?.reason == .cancelled)
        #expect(database.closedSessions.isEmpty)
        #expect(database.openSessions == [1])
        await client.shutdown()
    }

    @Test func fullServerIsProbedOnTheResourceLimitBackoffNotEveryFewHundredMilliseconds() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT balance", with: .value(100))
        database.beginOutage(.tooManyConnections)
        let client = PostgresClient.testing(database) { $0.retryPolicy.budget = .seconds(30) }

        let error = await #expect(throws: PostgresError.self) {
            try await database.clock.run {
                try await client.query("SELECT balance FROM accounts", options: .readOnly)
            }
        }
        #expect(error?.errorClass == .resourceLimit)
        #expect(error?.reason == .budgetExhausted)
        // 1 s growing to 30 s between connects: a handful in 30 s, not 60 or more.
        #expect(database.connects.count <= 12)
        let gaps = zip(database.connects.dropFirst(2), database.connects.dropFirst(3)).map {
            $1.time - $0.time
        }
        #expect(gaps.allSatisfy { $0 >= .seconds(1) })
        await client.shutdown()
    }

    @Test func proberStopsWhenNoOneWaitsAndResumesForTheNextOperation() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT balance", with: .value(100))
        database.beginOutage()
        let client = PostgresClient.testing(database) { $0.retryPolicy.budget = .seconds(10) }

        await #expect(throws: PostgresError.self) {
            try await database.clock.run {
                try await client.query("SELECT balance FROM accounts", options: .readOnly)
            }
        }
        let afterGivingUp = database.connects.count
        // A minute with no one waiting: no connect at all, and the prober gone after two empty wakes.
        try await database.clock.run(for: .seconds(60))
        #expect(database.connects.count == afterGivingUp)
        #expect(database.clock.pendingSleeps.isEmpty)

        database.endOutage()
        let rows = try await database.clock.run {
            try await client.query("SELECT balance FROM accounts", options: .readOnly)
        }
        #expect(try rows.decode(Int.self) == [100])
        await client.shutdown()
    }
}
