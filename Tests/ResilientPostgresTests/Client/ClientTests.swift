import Foundation
import PostgresTransport
import ResilientPostgres
import ResilientPostgresTesting
import Synchronization
import Testing
import TestSupport

@Suite("Client against a real server", .capturingLogs, .enabled(if: ClientTestServer.isAvailable, ClientTestServer.skipReason))
struct ClientTests {
    @Test func executesAndCountsRows() async throws {
        let client = PostgresClient(configuration: ClientTestServer.configuration())
        let table = ClientTestServer.uniqueTable("exec")
        try await client.execute("CREATE TABLE \(unsafeRaw: table) (id int PRIMARY KEY, note text)")
        let inserted = try await client.execute(
            "INSERT INTO \(unsafeRaw: table) SELECT g, \("n") FROM generate_series(1, 3) g"
        )
        #expect(inserted == 3)
        let updated = try await client.execute("UPDATE \(unsafeRaw: table) SET note = 'x' WHERE id > \(1)")
        #expect(updated == 2)
        try await client.execute("DROP TABLE \(unsafeRaw: table)")
        await client.shutdown()
    }

    @Test func queriesDecodeIntoTuples() async throws {
        let client = PostgresClient(configuration: ClientTestServer.configuration())
        let rows = try await client.query(
            "SELECT g, 'row ' || g FROM generate_series(1, 5) AS g WHERE g > \(2) ORDER BY g", options: .readOnly
        )
        let decoded = try rows.decode((Int, String).self)
        #expect(decoded.map(\.0) == [3, 4, 5])
        #expect(decoded.map(\.1) == ["row 3", "row 4", "row 5"])
        await client.shutdown()
    }

    @Test func permanentFailureIsThrownAtOnce() async throws {
        let client = PostgresClient(configuration: ClientTestServer.configuration())
        let error = await #expect(throws: PostgresError.self) { try await client.execute("SELEC 1") }
        #expect(error?.errorClass == .permanent)
        #expect(error?.reason == .permanent)
        #expect(error?.attempts == 1)
        #expect(error?.sqlState == .syntaxError)
        #expect(error?.mayHaveBeenApplied == false)
        await client.shutdown()
    }

    @Test func sqlStatePatternsCatchTheClientsAndTheConnectionsErrorsAlike() async throws {
        let client = PostgresClient(configuration: ClientTestServer.configuration())
        let table = ClientTestServer.uniqueTable("match")
        try await client.execute("CREATE TABLE \(unsafeRaw: table) (id int PRIMARY KEY, note text NOT NULL)")
        try await client.execute("INSERT INTO \(unsafeRaw: table) VALUES (1, 'one')")
        let duplicate: PostgresQuery = "INSERT INTO \(unsafeRaw: table) VALUES (\(1), \("again"))"
        let missingNote: PostgresQuery = "INSERT INTO \(unsafeRaw: table) (id) VALUES (2)"
        /// Which clause takes what `body` throws, written as an app writes them.
        func clause(_ body: () async throws -> Void) async -> String {
            do {
                try await body()
                return "none"
            } catch SQLState.uniqueViolation {
                return "unique"
            } catch SQLState.Class.integrityConstraintViolation {
                return "constraint"
            } catch {
                return "other"
            }
        }
        // Outside closures: PostgresError.
        #expect(await clause { try await client.execute(duplicate) } == "unique")
        #expect(await clause { try await client.execute(missingNote) } == "constraint")
        #expect(await clause { try await client.execute("SELEC 1") } == "other")
        #expect(await clause { _ = try await client.transaction { try await $0.execute(duplicate) } } == "unique")
        // Inside a closure: the connection's TransportError, matched the same way.
        let inside = try await client.withConnection { connection in
            [
                await clause { try await connection.execute(duplicate) },
                await clause { try await connection.execute(missingNote) },
                await clause { try await connection.execute("SELEC 1") },
            ]
        }
        #expect(inside == ["unique", "constraint", "other"])
        let typed = try await client.withConnection { connection in
            do {
                try await connection.execute(duplicate)
                return false
            } catch let error as TransportError where error.sqlState == .uniqueViolation {
                return true
            }
        }
        #expect(typed)

        // The error names the statement, with placeholders for its values, only when reflected.
        do {
            try await client.execute(duplicate)
            Issue.record("the duplicate was inserted")
        } catch let error as PostgresError where error.sqlState == .uniqueViolation {
            #expect(error.statement == "INSERT INTO \(table) VALUES ($1, $2)")
            #expect(!String(describing: error).contains("INSERT"))
            #expect(String(reflecting: error).contains(#"statement: "INSERT INTO \#(table) VALUES ($1, $2)""#))
        }
        try await client.execute("DROP TABLE \(unsafeRaw: table)")
        await client.shutdown()
    }

    @Test func transactionInterruptedByTerminationIsRunAgainWhole() async throws {
        let client = PostgresClient(configuration: ClientTestServer.configuration())
        let table = ClientTestServer.uniqueTable("tx")
        try await client.execute("CREATE TABLE \(unsafeRaw: table) (id int PRIMARY KEY, amount int NOT NULL)")
        try await client.execute("INSERT INTO \(unsafeRaw: table) VALUES (1, 100), (2, 0)")
        let killer = try await ClientTestServer.session()
        let runs = Mutex(0)
        try await client.transaction { tx in
            let run = runs.withLock { $0 += 1; return $0 }
            try await tx.execute("UPDATE \(unsafeRaw: table) SET amount = amount - 30 WHERE id = 1")
            if run == 1 {
                // Kill this very session in the middle of the block, before COMMIT.
                _ = try await killer.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid()",
                    parameters: [.text("UPDATE \(table) SET amount = amount - 30%")]
                )
            }
            try await tx.execute("UPDATE \(unsafeRaw: table) SET amount = amount + 30 WHERE id = 2")
        }
        #expect(runs.withLock { $0 } == 2)
        // Exactly as one successful run leaves it: the first run was rolled back by the server.
        let result = try await killer.execute("SELECT string_agg(amount::text, ',' ORDER BY id) FROM \(table)")
        #expect(result.string(row: 0, column: 0) == "70,30")
        _ = try await killer.execute("DROP TABLE \(table)")
        await killer.close()
        await client.shutdown()
    }

    @Test func errorThrownByTheBlockRollsBackAndIsNotRetried() async throws {
        struct Refused: Error {}
        let client = PostgresClient(configuration: ClientTestServer.configuration())
        let table = ClientTestServer.uniqueTable("rb")
        try await client.execute("CREATE TABLE \(unsafeRaw: table) (id int)")
        let runs = Mutex(0)
        await #expect(throws: Refused.self) {
            try await client.transaction { tx in
                runs.withLock { $0 += 1 }
                try await tx.execute("INSERT INTO \(unsafeRaw: table) VALUES (1)")
                throw Refused()
            }
        }
        #expect(runs.withLock { $0 } == 1)
        let session = try await ClientTestServer.session()
        #expect(try await session.execute("SELECT count(*) FROM \(table)").string(row: 0, column: 0) == "0")
        _ = try await session.execute("DROP TABLE \(table)")
        await session.close()
        await client.shutdown()
    }

    @Test func lostAutocommitWriteIsReportedUnknownAndNotRetried() async throws {
        let faults = FaultInjector()
        faults.fail("SELECT 1", with: .connectionLostAfterSend)
        let client = PostgresClient.testing(ClientTestServer.configuration(), injecting: faults)
        let error = await #expect(throws: PostgresError.self) {
            try await client.execute("SELECT 1")
        }
        #expect(error?.errorClass == .outcomeUnknown)
        #expect(error?.reason == .outcomeUnknown)
        #expect(error?.mayHaveBeenApplied == true)
        #expect(error?.attempts == 1)
        #expect(faults.statements.count == 1)
        #expect(error.map { String(describing: $0) }?.contains("may or may not have been applied") == true)
        await client.shutdown()
    }

    @Test func lostIdempotentWriteIsRetried() async throws {
        let faults = FaultInjector()
        faults.fail("SELECT 1", with: .connectionLostAfterSend)
        let client = PostgresClient.testing(ClientTestServer.configuration(), injecting: faults)
        let count = try await client.execute("SELECT 1", options: .idempotent)
        #expect(count == 1)
        #expect(faults.statements.count == 2)
        await client.shutdown()
    }

    @Test func unreachableServerExhaustsTheBudget() async throws {
        let configuration = ClientTestServer.configuration { configuration in
            configuration.connection["port"] = "1"
            configuration.retryPolicy = RetryPolicy(
                backoff: .constant(.milliseconds(100), jitter: .none), budget: .seconds(2)
            )
        }
        let client = PostgresClient(configuration: configuration)
        let started = ContinuousClock.now
        let error = await #expect(throws: PostgresError.self) { try await client.execute("SELECT 1") }
        let elapsed = ContinuousClock.now - started
        #expect(error?.errorClass == .unreachable)
        #expect(error?.reason == .budgetExhausted)
        // Refused at once; then the operation waits for the pool's prober, which keeps failing, until the budget ends.
        #expect((error?.attempts ?? 0) >= 1)
        #expect(error?.history.allSatisfy { $0.errorClass == .unreachable } == true)
        #expect(error?.history.first?.phase == .connecting)
        #expect(error?.lastFailure?.phase == .connecting)
        #expect(elapsed >= .milliseconds(1500))
        #expect(elapsed < .seconds(10))
        await client.shutdown()
    }

    @Test func waitsForASlotThenSucceeds() async throws {
        let client = PostgresClient(configuration: ClientTestServer.configuration { $0.maxConnections = 1 })
        async let holder: Int = client.execute("SELECT pg_sleep(0.3)")
        try await Task.sleep(for: .milliseconds(50))
        let started = ContinuousClock.now
        let count = try await client.execute("SELECT 1")
        #expect(count == 1)
        #expect(ContinuousClock.now - started >= .milliseconds(150))
        _ = try await holder
        await client.shutdown()
    }

    @Test func waitingPastTheBudgetFailsNamingTheClass() async throws {
        let client = PostgresClient(configuration: ClientTestServer.configuration {
            $0.maxConnections = 1
            // Long enough for the holder's own connect on a busy machine; far shorter than its sleep.
            $0.retryPolicy.budget = .seconds(2)
        })
        // Holds the only session past the waiter's budget (no statement runs, so no deadline cancels anything).
        let holder = Task { try await client.withConnection { _ in try await Task.sleep(for: .seconds(4)) } }
        try await Task.sleep(for: .milliseconds(50))
        let error = await #expect(throws: PostgresError.self) { try await client.execute("SELECT 1") }
        #expect(error?.errorClass == .resourceLimit)
        #expect(error?.reason == .budgetExhausted)
        try await holder.value
        await client.shutdown()
    }

    @Test func cancellingAWaitingOperationEndsItAtOnce() async throws {
        let client = PostgresClient(configuration: ClientTestServer.configuration { $0.maxConnections = 1 })
        let holder = Task { try await client.execute("SELECT pg_sleep(30)") }
        try await Task.sleep(for: .milliseconds(50))
        let waiting = Task { try await client.execute("SELECT 1") }
        try await Task.sleep(for: .milliseconds(50))
        let started = ContinuousClock.now
        waiting.cancel()
        let error = await #expect(throws: PostgresError.self) { try await waiting.value }
        // Long before the holder frees the session; wide, because a loaded machine can stall a task for a while.
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(error?.errorClass == .cancelled)
        #expect(error?.reason == .cancelled)
        holder.cancel()
        _ = try? await holder.value
        await client.shutdown()
    }

    @Test func runsAsAServiceAndShutsDownWhenCancelled() async throws {
        let client = PostgresClient(configuration: ClientTestServer.configuration())
        let service = Task { try await client.run() }
        #expect(try await client.execute("SELECT 1") == 1)
        service.cancel()
        try await service.value
        let error = await #expect(throws: PostgresError.self) { try await client.execute("SELECT 1") }
        #expect(error?.errorClass == .permanent)
        #expect(error?.attempts == 0)
    }

    @Test func statementStillRunningAtTheDeadlineIsCancelled() async throws {
        let client = PostgresClient(configuration: ClientTestServer.configuration { $0.retryPolicy.budget = .seconds(1) })
        let started = ContinuousClock.now
        let error = await #expect(throws: PostgresError.self) {
            try await client.query("SELECT pg_sleep(60)", options: .readOnly)
        }
        #expect(error?.errorClass == .deadline)
        #expect(error?.reason == .timedOut)
        #expect(error?.sqlState == "57014")
        // Cancelled on the server at the deadline, long before the statement would have ended.
        #expect(ContinuousClock.now - started < .seconds(20))
        await client.shutdown()
    }

    @Test func serviceKeepsTheMinimumIdleSessionsOpen() async throws {
        let name = ClientTestServer.uniqueTable("min_idle")
        let client = PostgresClient(configuration: ClientTestServer.configuration {
            $0.connection["application_name"] = name
            $0.minimumIdleConnections = 2
        })
        let service = Task { try await client.run() }
        let session = try await ClientTestServer.session()
        var open = 0
        for _ in 0..<100 where open < 2 {
            try await Task.sleep(for: .milliseconds(50))
            let result = try await session.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", parameters: [.text(name)]
            )
            open = Int(result.string(row: 0, column: 0) ?? "") ?? 0
        }
        #expect(open == 2)
        service.cancel()
        try await service.value
        await session.close()
    }
}
