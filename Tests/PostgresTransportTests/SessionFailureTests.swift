import Foundation
import PostgresTransport
import Testing
import TestSupport

@Suite("Sessions that fail under a statement", .capturingLogs, .enabled(if: TestServer.isAvailable, TestServer.skipReason))
struct SessionFailureTests {
    @Test func backendTerminatedWhileIdle() async throws {
        let victim = try await TestServer.connect()
        let killer = try await TestServer.connect()
        let killed = try await killer.execute(
            "SELECT pg_terminate_backend($1::int4)", parameters: [.text(String(victim.backendPID))]
        )
        #expect(killed.string(row: 0, column: 0) == "t")
        // The FATAL arrives at the victim's next statement: the server's own code, and a dead connection.
        let error = await #expect(throws: TransportError.self) { try await victim.execute("SELECT 1") }
        #expect(error?.code == .server)
        #expect(error?.sqlState == "57P01")
        #expect(error?.sqlStateFromNotice == false)
        #expect(error?.severity == "FATAL")
        #expect(error?.phase == .sent)
        #expect(error?.isConnectionUsable == false)
        #expect(await victim.isUsable == false)
        // The statement after that never leaves the client.
        let next = await #expect(throws: TransportError.self) { try await victim.execute("SELECT 1") }
        #expect(next?.code == .connectionLost)
        #expect(next?.phase == .notSent)
        #expect(next?.isConnectionUsable == false)
        #expect(next?.message.contains("no connection to the server") == true)
        await killer.close()
    }

    @Test func cancellingAStatementReturnsPromptlyAndKeepsTheConnection() async throws {
        let connection = try await TestServer.connect()
        let observer = try await TestServer.connect()
        let started = ContinuousClock.now
        let task = Task { try await connection.execute("SELECT pg_sleep(60)") }
        // Cancelled once the server runs the statement (a fixed pause may end before a loaded machine sent it).
        let until = ContinuousClock.now.advanced(by: .seconds(10))
        while ContinuousClock.now < until {
            let state = try await observer.execute(
                "SELECT state FROM pg_stat_activity WHERE pid = $1", parameters: [.text("\(connection.backendPID)")]
            )
            if state.string(row: 0, column: 0) == "active" { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        await observer.close()
        task.cancel()
        let error = await #expect(throws: TransportError.self) { try await task.value }
        let elapsed = ContinuousClock.now - started
        // Far sooner than the statement would end; wide, because a loaded machine can stall a task for a while.
        #expect(elapsed < .seconds(20))
        #expect(error?.code == .cancelled)
        #expect(error?.sqlState == "57014")
        #expect(error?.phase == .sent)
        #expect(error?.isConnectionUsable == true)
        let next = try await connection.execute("SELECT 'still here'")
        #expect(next.string(row: 0, column: 0) == "still here")
        await connection.close()
    }

    @Test func cancelledTaskSendsNothing() async throws {
        let connection = try await TestServer.connect()
        let gate = AsyncStream<Void>.makeStream()
        let task = Task {
            for await _ in gate.stream {}
            return try await connection.execute("CREATE TEMP TABLE never_created (id int)")
        }
        task.cancel()
        gate.continuation.finish()
        let error = await #expect(throws: TransportError.self) { try await task.value }
        #expect(error?.code == .cancelled)
        #expect(error?.phase == .notSent)
        let exists = try await connection.execute("SELECT to_regclass('never_created') IS NULL")
        #expect(exists.string(row: 0, column: 0) == "t")
        await connection.close()
    }

    @Test func statementDeadlineCancelsOnTheServer() async throws {
        let connection = try await TestServer.connect()
        let started = ContinuousClock.now
        let error = await #expect(throws: TransportError.self) {
            // Long enough for the statement to be running on a loaded machine; the sleep is far longer.
            try await connection.execute("SELECT pg_sleep(60)", deadline: .now.advanced(by: .seconds(2)))
        }
        #expect(ContinuousClock.now - started < .seconds(20))
        #expect(error?.code == .deadlineExceeded)
        #expect(error?.sqlState == "57014")
        #expect(error?.isConnectionUsable == true)
        let next = try await connection.execute("SELECT 1")
        #expect(next.string(row: 0, column: 0) == "1")
        await connection.close()
    }

    @Test func aServerCancelAfterAnEarlierDeadlineCancelIsTheServers() async throws {
        let connection = try await TestServer.connect()
        let first = await #expect(throws: TransportError.self) {
            try await connection.execute("SELECT pg_sleep(60)", deadline: .now.advanced(by: .seconds(1)))
        }
        #expect(first?.code == .deadlineExceeded)
        // Answered at its first read or not, the 57014 is the server's own, not the cancel kept from the statement
        // before (ServerCancelTests makes the first read find the answer every time).
        let error = await #expect(throws: TransportError.self) {
            try await connection.execute(
                "DO $$ BEGIN RAISE EXCEPTION 'by the server' USING ERRCODE = 'query_canceled'; END $$"
            )
        }
        #expect(error?.code == .server)
        #expect(error?.sqlState == "57014")
        await connection.close()
    }

    @Test func concurrentStatementOnOneConnectionIsRefused() async throws {
        let connection = try await TestServer.connect()
        // Long enough to be still running when the second statement comes, however loaded the machine.
        async let slow = connection.execute("SELECT pg_sleep(3)")
        try await Task.sleep(for: .milliseconds(50))
        let error = await #expect(throws: TransportError.self) { try await connection.execute("SELECT 1") }
        #expect(error?.code == .connectionBusy)
        #expect(error?.phase == .notSent)
        _ = try await slow
        await connection.close()
    }
}

@Suite(
    "Server shutdowns under a statement", .capturingLogs,
    .serialized,
    .enabled(if: TestServer.hasCrashCluster, TestServer.crashSkipReason)
)
struct ShutdownTests {
    static var crashPort: String { TestServer.environment.server("crash")!.port }

    @Test func immediateShutdownDuringAStatement() async throws {
        let connection = try await TestServer.connect(port: Self.crashPort)
        let task = Task { try await connection.execute("SELECT pg_sleep(30)") }
        try await Task.sleep(for: .milliseconds(300))
        try await TestServer.cluster("stop", "crash", "immediate")
        let error = await #expect(throws: TransportError.self) { try await task.value }
        try await TestServer.cluster("start-existing", "crash")
        // The cause came only as a WARNING notice before the socket closed; libpq's error has no SQLSTATE.
        #expect(error?.code == .connectionLost)
        #expect(error?.sqlState == "57P01")
        #expect(error?.sqlStateFromNotice == true)
        #expect(error?.phase == .sent)
        #expect(error?.isConnectionUsable == false)
        #expect(error?.message.contains("server closed the connection unexpectedly") == true)
        // The restarted server takes new sessions.
        let fresh = try await TestServer.connect(port: Self.crashPort)
        #expect(try await fresh.execute("SELECT 1").string(row: 0, column: 0) == "1")
        await fresh.close()
    }

    @Test func lostCommitIsInFlight() async throws {
        let connection = try await TestServer.connect(port: Self.crashPort)
        _ = try await connection.execute("CREATE TABLE IF NOT EXISTS in_flight (id int)")
        _ = try await connection.execute("BEGIN")
        _ = try await connection.execute("INSERT INTO in_flight VALUES (1)")
        try await TestServer.cluster("stop", "crash", "immediate")
        let error = await #expect(throws: TransportError.self) { try await connection.execute("COMMIT") }
        try await TestServer.cluster("start-existing", "crash")
        #expect(error?.phase == .commitInFlight)
        #expect(error?.isConnectionUsable == false)
    }
}
