import Foundation
import PostgresTransport
import Testing
import TestSupport

/// A connection on its I/O thread, against a real server.
@Suite("Connections on their I/O thread", .capturingLogs, .enabled(if: TestServer.isAvailable, TestServer.skipReason))
struct ConnectionThreadTests {
    /// How late past the close a suspended statement may end on a loaded machine.
    static let margin = Duration.seconds(2)

    @Test func closeWhileAStatementWaitsEndsItAndFreesNothingUnderIt() async throws {
        let connection = try await TestServer.connect()
        let statement = Task { try await connection.execute("SELECT pg_sleep(5)") }
        try await Task.sleep(for: .milliseconds(200))
        let closed = ContinuousClock.now
        await connection.close()
        let error = await #expect(throws: TransportError.self) { try await statement.value }
        #expect(error?.code == .connectionClosed)
        #expect(error?.phase == .sent)
        #expect(error?.isConnectionUsable == false)
        #expect(ContinuousClock.now - closed < Self.margin)
        let after = await #expect(throws: TransportError.self) { try await connection.execute("SELECT 1") }
        #expect(after?.code == .connectionClosed)
    }

    @Test func closeWhileABatchWaitsEndsIt() async throws {
        let connection = try await TestServer.connect()
        let batch = Task {
            try await connection.executeBatch([BatchStatement("SELECT 1"), BatchStatement("SELECT pg_sleep(5)")])
        }
        try await Task.sleep(for: .milliseconds(200))
        await connection.close()
        let error = await #expect(throws: TransportError.self) { try await batch.value }
        #expect(error?.code == .connectionClosed)
        #expect(error?.isConnectionUsable == false)
    }

    @Test func aCallerPreferringTheConnectionsThreadRunsStatements() async throws {
        let connection = try await TestServer.connect()
        let values = try await withTaskExecutorPreference(connection.ioThread.taskExecutor) {
            var values: [String?] = []
            for index in 0..<50 {
                let result = try await connection.executeInPlace(
                    "SELECT $1::int4 * 2", parameters: [.text("\(index)")]
                )
                values.append(result.string(row: 0, column: 0))
            }
            return values
        }
        #expect(values == (0..<50).map { String($0 * 2) })
        await connection.close()
    }

    /// On the connection's own thread a statement is sent without entering the actor, which it enters only to wait
    /// for the rest of its answer, behind the jobs queued on the thread before it: a close among them must end the
    /// statement, not leave it reading a freed connection.
    @Test func aStatementSentOnTheThreadThenClosedByAJobQueuedBeforeItsWaitEndsAsClosed() async throws {
        let connection = try await TestServer.connect()
        let error = try await withTaskExecutorPreference(connection.ioThread.taskExecutor) {
            _ = try await connection.executeInPlace("SELECT 1")  // the task now runs on the thread
            #expect(connection.ioThread.isCurrent)
            Self.queueClose(of: connection)
            return await #expect(throws: TransportError.self) {
                try await connection.executeInPlace("SELECT pg_sleep(5)")
            }
        }
        #expect(error?.code == .connectionClosed)
        #expect(error?.phase == .sent)
        #expect(error?.isConnectionUsable == false)
        #expect(await !connection.isUsable)
    }

    /// Queues a job on the connection's thread that closes it, from that thread: it runs after the caller's current
    /// job, before anything the caller queues later. (A task's switch into the connection would queue a job of its
    /// own, behind the caller's; the close is made in the task's first job, on the thread, without one.)
    private static func queueClose(of connection: LibPQConnection) {
        Task(executorPreference: connection.ioThread.taskExecutor) { closeNow(connection) }
    }

    private static func closeNow(_ connection: LibPQConnection) {
        connection.assumeIsolated { $0.close() }
    }

    @Test func smallBatchResultsReadAsLibpqsDo() async throws {
        let connection = try await TestServer.connect()
        let sql = #"SELECT 1 AS "Foo", NULL::text AS bar, ''::text AS empty, 'x' AS "with""quote""#
        let fromLibpq = try await connection.execute(sql)
        let results = try await connection.executeBatch([
            BatchStatement(sql), BatchStatement("SELECT g FROM generate_series(1, 1000) AS g"),
        ])
        let copied = results[0]
        for result in [fromLibpq, copied] {
            #expect(result.rowCount == 1 && result.columnCount == 4)
            #expect(result.commandTag == "SELECT 1")
            #expect(result.affectedRows == 1)
            #expect(result.string(row: 0, column: 0) == "1")
            #expect(result.isNull(row: 0, column: 1))
            #expect(result.string(row: 0, column: 1) == nil)
            #expect(!result.isNull(row: 0, column: 2))
            #expect(result.string(row: 0, column: 2) == "")
            #expect(result.columnName(0) == "Foo")
            #expect(result.columnType(0) == 23)
            #expect(result.columnFormat(0) == .text)
        }
        for name in ["Foo", "foo", "FOO", #""Foo""#, #""foo""#, "bar", "BAR", #""BAR""#, "", #""with""""quote""#,
                     #"with"quote"#, "missing"] {
            #expect(copied.columnIndex(named: name) == fromLibpq.columnIndex(named: name), "\(name)")
        }
        #expect(results[1].rowCount == 1000)
        #expect(results[1].string(row: 999, column: 0) == "1000")
        await connection.close()
    }
}
