import Foundation
import PostgresTransport
import Testing
import TestSupport

@Suite("Batches in pipeline mode against a real server", .capturingLogs, .enabled(if: TestServer.isAvailable, TestServer.skipReason))
struct BatchTests {
    @Test func returnsEveryResultInOrder() async throws {
        let connection = try await TestServer.connect()
        let count = 20_000
        let statements = (0..<count).map { BatchStatement("SELECT $1::int4 + 1", parameters: [.text(String($0))]) }
        let results = try await connection.executeBatch(statements)
        #expect(results.count == count)
        let values = results.map { $0.string(row: 0, column: 0) }
        #expect(values == (0..<count).map { String($0 + 1) })
        // The connection left pipeline mode and is idle.
        #expect(await connection.transactionStatus == .idle)
        #expect(try await connection.execute("SELECT 'after'").string(row: 0, column: 0) == "after")
        await connection.close()
    }

    @Test func largeValuesBothWaysDoNotDeadlock() async throws {
        // 1,000 statements of 32 KiB each way: far more than the socket buffers hold, so the batch can only finish
        // if results are read while the rest of it is still being sent.
        let connection = try await TestServer.connect()
        let payload = String(repeating: "0123456789abcdef", count: 2048)
        let statements = (0..<1000).map { index in
            BatchStatement("SELECT $1::int4, $2::text", parameters: [.text(String(index)), .text(payload)])
        }
        let results = try await connection.executeBatch(statements, resultFormat: .binary)
        #expect(results.count == 1000)
        #expect(results.allSatisfy { $0.withBytes(row: 0, column: 1) { $0?.count } == payload.utf8.count })
        let indexes = results.map { result in
            result.withBytes(row: 0, column: 0) { bytes in bytes.map { $0.reduce(0) { $0 << 8 | Int($1) } } }
        }
        #expect(indexes == (0..<1000).map { $0 })
        await connection.close()
    }

    /// A copied result shares the command tag of the one before when it is the same, and keeps its own when not.
    @Test func eachResultKeepsItsOwnCommandTag() async throws {
        let connection = try await TestServer.connect()
        _ = try await connection.execute("CREATE TEMP TABLE tagged (id int)")
        let results = try await connection.executeBatch([
            BatchStatement("SELECT 1"), BatchStatement("SELECT 1"), BatchStatement("SELECT 2 UNION ALL SELECT 3"),
            BatchStatement("INSERT INTO tagged VALUES (4)"), BatchStatement("DELETE FROM tagged WHERE id > 100"),
            BatchStatement("CREATE TEMP TABLE tagged_too (id int)"),
        ])
        let tags = ["SELECT 1", "SELECT 1", "SELECT 2", "INSERT 0 1", "DELETE 0", "CREATE TABLE"]
        #expect(results.map(\.commandTag) == tags)
        #expect(results.map(\.affectedRows) == [1, 1, 2, 1, 0, nil])
    }

    @Test func failingStatementRollsBackTheBatchAndNamesItsIndex() async throws {
        let connection = try await TestServer.connect()
        _ = try await connection.execute("CREATE TEMP TABLE items (id int PRIMARY KEY)")
        let statements = [1, 2, 1, 3].map { BatchStatement("INSERT INTO items VALUES ($1)", parameters: [.text(String($0))]) }
        let error = await #expect(throws: TransportError.self) { try await connection.executeBatch(statements) }
        #expect(error?.code == .server)
        #expect(error?.sqlState == "23505")
        #expect(error?.statementIndex == 2)
        #expect(error?.statement == "INSERT INTO items VALUES ($1)")
        #expect(error?.phase == .sent)
        #expect(error?.isConnectionUsable == true)
        #expect(error.map { String(describing: $0) }?.contains("statement index: 2") == true)
        // The two inserts before it were rolled back with it, and the session is idle again.
        #expect(await connection.transactionStatus == .idle)
        #expect(try await connection.execute("SELECT count(*) FROM items").string(row: 0, column: 0) == "0")
        let fixed = [1, 2, 3].map { BatchStatement("INSERT INTO items VALUES ($1)", parameters: [.text(String($0))]) }
        let results = try await connection.executeBatch(fixed)
        #expect(results.map(\.affectedRows) == [1, 1, 1])
        #expect(try await connection.execute("SELECT count(*) FROM items").string(row: 0, column: 0) == "3")
        // The statement named is the one at the index.
        let divided = await #expect(throws: TransportError.self) {
            try await connection.executeBatch([
                BatchStatement("SELECT 1"), BatchStatement("SELECT 1 / $1::int4", parameters: [.text("0")]),
                BatchStatement("SELECT 3"),
            ])
        }
        #expect(divided?.statementIndex == 1)
        #expect(divided?.statement == "SELECT 1 / $1::int4")
        #expect(divided?.sqlState == .divisionByZero)
        await connection.close()
    }

    @Test func aFailureDeepInALargeBatchNamesItsStatement() async throws {
        // Far past the 1,024 answered items after which answered items leave the pipeline's queue.
        let connection = try await TestServer.connect()
        var statements = (0..<10_000).map { BatchStatement("SELECT $1::int4 + 1", parameters: [.text(String($0))]) }
        statements[9_000] = BatchStatement("SELECT 1 / 0")
        let error = await #expect(throws: TransportError.self) { try await connection.executeBatch(statements) }
        #expect(error?.sqlState == .divisionByZero)
        #expect(error?.statementIndex == 9_000)
        #expect(error?.statement == "SELECT 1 / 0")
        #expect(error?.phase == .sent)
        #expect(error?.isConnectionUsable == true)
        #expect(await connection.transactionStatus == .idle)
        #expect(try await connection.execute("SELECT 'after'").string(row: 0, column: 0) == "after")
        await connection.close()
    }

    @Test func refusesWhatCannotBeSentBeforeSendingAnything() async throws {
        let connection = try await TestServer.connect()
        _ = try await connection.execute("CREATE TEMP TABLE refused (id int)")
        let nul = await #expect(throws: TransportError.self) {
            try await connection.executeBatch([
                BatchStatement("INSERT INTO refused VALUES (1)"),
                BatchStatement("SELECT $1::text", parameters: [.text("a\0b")]),
            ])
        }
        #expect(nul?.code == .invalidParameter)
        #expect(nul?.statementIndex == 1)
        #expect(nul?.phase == .notSent)
        let commit = await #expect(throws: TransportError.self) {
            try await connection.executeBatch([BatchStatement("INSERT INTO refused VALUES (1)"), BatchStatement("  commit")])
        }
        #expect(commit?.code == .invalidParameter)
        #expect(commit?.statementIndex == 1)
        #expect(try await connection.execute("SELECT count(*) FROM refused").string(row: 0, column: 0) == "0")
        #expect(try await connection.executeBatch([]).isEmpty)
        await connection.close()
    }

    @Test func insideATransactionBlockNothingCommitsAtTheSync() async throws {
        let connection = try await TestServer.connect()
        _ = try await connection.execute("CREATE TEMP TABLE inner_rows (id int)")
        _ = try await connection.execute("BEGIN")
        let statements = (1...3).map { BatchStatement("INSERT INTO inner_rows VALUES ($1)", parameters: [.text(String($0))]) }
        _ = try await connection.executeBatch(statements)
        #expect(await connection.transactionStatus == .inTransaction)
        _ = try await connection.execute("ROLLBACK")
        #expect(try await connection.execute("SELECT count(*) FROM inner_rows").string(row: 0, column: 0) == "0")
        await connection.close()
    }

    @Test func cancellingABatchCancelsItOnTheServer() async throws {
        let connection = try await TestServer.connect()
        _ = try await connection.execute("CREATE TEMP TABLE cancelled_rows (id int)")
        let task = Task {
            try await connection.executeBatch([
                BatchStatement("INSERT INTO cancelled_rows VALUES (1)"),
                BatchStatement("SELECT pg_sleep(60)"),
                BatchStatement("INSERT INTO cancelled_rows VALUES (2)"),
            ])
        }
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        task.cancel()
        let error = await #expect(throws: TransportError.self) { try await task.value }
        // Well before the 60-second sleep could have ended by itself, even on a busy machine.
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(error?.code == .cancelled)
        #expect(error?.sqlState == "57014")
        #expect(error?.statementIndex == 1)
        #expect(error?.isConnectionUsable == true)
        #expect(try await connection.execute("SELECT count(*) FROM cancelled_rows").string(row: 0, column: 0) == "0")
        await connection.close()
    }

    @Test func deadlineEndsABatch() async throws {
        let connection = try await TestServer.connect()
        let error = await #expect(throws: TransportError.self) {
            try await connection.executeBatch(
                [BatchStatement("SELECT 1"), BatchStatement("SELECT pg_sleep(30)"), BatchStatement("SELECT 3")],
                // Long enough for the first statement to be answered on a loaded machine; the sleep is far longer.
                deadline: .now.advanced(by: .seconds(2))
            )
        }
        #expect(error?.code == .deadlineExceeded)
        #expect(error?.sqlState == "57014")
        #expect(error?.statementIndex == 1)
        #expect(error?.isConnectionUsable == true)
        #expect(try await connection.execute("SELECT 'next'").string(row: 0, column: 0) == "next")
        await connection.close()
    }

    @Test func cancellingWhileTheBatchIsStillBeingSentKeepsTheConnection() async throws {
        // The first statement sleeps, so the server stops reading and the socket fills long before the batch is
        // sent: the cancel arrives while statements are still waiting to be sent.
        let connection = try await TestServer.connect()
        let observer = try await TestServer.connect()
        let task = Task { try await connection.executeBatch(Self.batchThatFillsTheSocket()) }
        try await Self.waitUntilSleeping(connection.backendPID, observer: observer)
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        let error = await #expect(throws: TransportError.self) { try await task.value }
        await observer.close()
        #expect(error?.code == .cancelled)
        #expect(error?.sqlState == "57014")
        #expect(error?.statementIndex == 0)
        #expect(error?.phase == .sent)
        #expect(error?.isConnectionUsable == true)
        #expect(await connection.transactionStatus == .idle)
        #expect(try await connection.execute("SELECT 'still here'").string(row: 0, column: 0) == "still here")
        await connection.close()
    }

    @Test func terminatedBackendEndsTheBatch() async throws {
        let table = "terminated_\(UInt32.random(in: 0...UInt32.max))"
        let killer = try await TestServer.connect()
        _ = try await killer.execute("CREATE TABLE \(table) (id int)")
        let victim = try await TestServer.connect()
        let task = Task {
            try await victim.executeBatch([
                BatchStatement("INSERT INTO \(table) VALUES (1)"),
                BatchStatement("SELECT pg_sleep(30)"),
                BatchStatement("INSERT INTO \(table) VALUES (2)"),
            ])
        }
        try await Self.terminateWhenSleeping(victim.backendPID, killer: killer)
        let error = await #expect(throws: TransportError.self) { try await task.value }
        // The server's own answer to the statement it was running: nothing of the batch committed.
        #expect(error?.sqlState == "57P01")
        #expect(error?.severity == "FATAL")
        #expect(error?.statementIndex == 1)
        #expect(error?.phase == .sent)
        #expect(error?.isConnectionUsable == false)
        #expect(await victim.isUsable == false)
        #expect(try await killer.execute("SELECT count(*) FROM \(table)").string(row: 0, column: 0) == "0")
        _ = try await killer.execute("DROP TABLE \(table)")
        await killer.close()
    }

    /// A batch whose first statement sleeps 30 seconds, followed by 2,000 statements of 16 KiB each (32 MB, far more
    /// than the socket buffers take while the server sleeps).
    static func batchThatFillsTheSocket() -> [BatchStatement] {
        let payload = String(repeating: "x", count: 16_384)
        return [BatchStatement("SELECT pg_sleep(30)")]
            + Array(repeating: BatchStatement("SELECT length($1::text)", parameters: [.text(payload)]), count: 2000)
    }

    /// Waits until the backend sleeps in `pg_sleep`, then terminates it.
    static func terminateWhenSleeping(_ pid: Int32, killer: LibPQConnection) async throws {
        try await waitUntilSleeping(pid, observer: killer)
        _ = try await killer.execute("SELECT pg_terminate_backend($1::int4)", parameters: [.text(String(pid))])
    }

    /// Waits until the backend sleeps in `pg_sleep` (at most 30 seconds).
    static func waitUntilSleeping(_ pid: Int32, observer: LibPQConnection) async throws {
        let deadline = ContinuousClock.now.advanced(by: .seconds(30))
        while ContinuousClock.now < deadline {
            let sleeping = try await observer.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1::int4 AND wait_event = 'PgSleep'",
                parameters: [.text(String(pid))]
            )
            if sleeping.string(row: 0, column: 0) == "1" { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("the backend never started sleeping")
    }
}

extension ShutdownTests {
    @Test func batchWhoseAnswerIsLostAfterTheSyncIsInFlight() async throws {
        let connection = try await TestServer.connect(port: Self.crashPort)
        let task = Task {
            try await connection.executeBatch([BatchStatement("SELECT 1"), BatchStatement("SELECT pg_sleep(30)")])
        }
        try await Task.sleep(for: .milliseconds(300))
        try await TestServer.cluster("stop", "crash", "immediate")
        let error = await #expect(throws: TransportError.self) { try await task.value }
        try await TestServer.cluster("start-existing", "crash")
        // The whole batch and its sync were sent and no answer says what became of them.
        #expect(error?.code == .connectionLost)
        #expect(error?.sqlState == "57P01")
        #expect(error?.sqlStateFromNotice == true)
        #expect(error?.phase == .commitInFlight)
        #expect(error?.isConnectionUsable == false)
    }

    @Test func batchLostWhileBeingSentWasNotCommitted() async throws {
        let connection = try await TestServer.connect(port: Self.crashPort)
        let observer = try await TestServer.connect(port: Self.crashPort)
        let task = Task { try await connection.executeBatch(BatchTests.batchThatFillsTheSocket()) }
        try await BatchTests.waitUntilSleeping(connection.backendPID, observer: observer)
        try await Task.sleep(for: .milliseconds(300))
        try await TestServer.cluster("stop", "crash", "immediate")
        let error = await #expect(throws: TransportError.self) { try await task.value }
        try await TestServer.cluster("start-existing", "crash")
        // The sync was never sent: whatever the server got of the batch could not commit.
        #expect(error?.code == .connectionLost)
        #expect(error?.phase == .sent)
        #expect(error?.isConnectionUsable == false)
    }
}
