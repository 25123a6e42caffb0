import Foundation
import Logging
import Synchronization
import PostgresPolicy
import PostgresTransport
import Testing
import TestSupport

/// Statements sent from their connection's own I/O thread, which start and wait for their answers without entering
/// the connection's actor: what a statement from elsewhere promises holds for them too, whenever the task is
/// cancelled, the deadline passes or the connection is closed.
@Suite("Statements sent from their connection's thread", .capturingLogs, .enabled(if: TestServer.isAvailable, TestServer.skipReason))
struct OwnThreadStatementTests {
    @Test func aCancelledTaskEndsItsStatementAndLeavesTheConnectionFree() async throws {
        let connection = try await TestServer.connect()
        let statement = Task(executorPreference: connection.ioThread.taskExecutor) {
            _ = try await connection.executeInPlace("SELECT 1")
            #expect(connection.ioThread.isCurrent)
            return try await connection.executeInPlace("SELECT pg_sleep(5)")
        }
        try await Task.sleep(for: .milliseconds(300))
        statement.cancel()
        let error = await #expect(throws: TransportError.self) { try await statement.value }
        #expect(error?.code == .cancelled)
        #expect(error?.phase == .sent)
        #expect(error?.isConnectionUsable == true)
        #expect(try await connection.executeInPlace("SELECT 2").string(row: 0, column: 0) == "2")
        await connection.close()
    }

    /// The statement's task, for a job queued on the thread to cancel it.
    final class Handle: Sendable {
        let task = Mutex<Task<QueryResult, any Error>?>(nil)
        let started = Mutex(false)
    }

    /// A cancel that reaches the task as soon as its statement was sent (a job queued on the thread before the
    /// statement's first wait ends) cancels the statement, and never the next one.
    @Test func aCancelBetweenTheSendAndTheWaitCancelsTheStatementAndNotTheNext() async throws {
        // A cancel request that reaches the server before it has begun the statement is ignored there (PostgreSQL's
        // protocol), and the connection is closed once the grace period passes: not the race under test, but it
        // happens here, as the cancel follows the send at once. A short grace keeps such a round short.
        let options = LibPQConnection.Options(cancelGracePeriod: .seconds(1))
        var connection = try await TestServer.connect(options: options)
        var ignoredCancels = 0
        for _ in 0..<20 {
            let handle = Self.Handle()
            let session = connection
            let statement = Task(executorPreference: session.ioThread.taskExecutor) {
                _ = try await session.executeInPlace("SELECT 1")
                while handle.task.withLock({ $0 }) == nil { await Task.yield() }
                #expect(session.ioThread.isCurrent)
                // Runs after this job, before the statement's wait is enqueued behind it.
                Task(executorPreference: session.ioThread.taskExecutor) { handle.task.withLock { $0 }?.cancel() }
                handle.started.withLock { $0 = true }
                return try await session.executeInPlace("SELECT pg_sleep(5)")
            }
            handle.task.withLock { $0 = statement }
            let error = await #expect(throws: TransportError.self) { try await statement.value }
            #expect(handle.started.withLock { $0 })
            #expect(error?.code == .cancelled)
            #expect(error?.phase == .sent)
            if error?.isConnectionUsable == false {
                ignoredCancels += 1
                connection = try await TestServer.connect(options: options)
                continue
            }
            let next = try await withTaskExecutorPreference(session.ioThread.taskExecutor) {
                try await session.executeInPlace("SELECT pg_sleep(0.05), 'next'").string(row: 0, column: 1)
            }
            #expect(next == "next")
        }
        #expect(ignoredCancels < 5)
        await connection.close()
    }

    @Test func aDeadlineCancelsAStatementThatWaits() async throws {
        let connection = try await TestServer.connect()
        let error = try await withTaskExecutorPreference(connection.ioThread.taskExecutor) {
            _ = try await connection.executeInPlace("SELECT 1")
            #expect(connection.ioThread.isCurrent)
            return await #expect(throws: TransportError.self) {
                try await connection.executeInPlace(
                    prepared: true,
                    "SELECT pg_sleep($1::float8)", parameters: [.text("5")],
                    deadline: .now.advanced(by: .milliseconds(200))
                )
            }
        }
        #expect(error?.code == .deadlineExceeded)
        #expect(error?.phase == .sent)
        #expect(error?.isConnectionUsable == true)
        #expect(try await connection.executeInPlace("SELECT 3").string(row: 0, column: 0) == "3")
        await connection.close()
    }

    /// A connection closed while a statement waits from its thread ends the wait at once: the statement fails as
    /// closed, with its outcome unknown, long before its answer would have come.
    @Test func aCloseWhileTheStatementWaitsEndsItAtOnce() async throws {
        let connection = try await TestServer.connect()
        let statement = Task(executorPreference: connection.ioThread.taskExecutor) {
            _ = try await connection.executeInPlace("SELECT 1")
            return try await connection.executeInPlace("SELECT pg_sleep(30)")
        }
        try await Task.sleep(for: .milliseconds(300))
        let closed = ContinuousClock.now
        await connection.close()
        let error = await #expect(throws: TransportError.self) { try await statement.value }
        #expect(ContinuousClock.now - closed < .seconds(10))
        #expect(error?.code == .connectionClosed)
        #expect(error?.phase == .sent)
        #expect(error?.isConnectionUsable == false)
    }

    /// A statement started on the thread and completed from elsewhere (a task that left the thread in between)
    /// waits from there, with the same steps (in the caller's job while the thread runs no job, on the actor
    /// otherwise): its answer, its task's cancellation and its deadline are taken as from the thread.
    @Test func aStatementCompletedAwayFromItsThreadWaitsFromThere() async throws {
        let connection = try await TestServer.connect()
        func start(_ sql: String) async throws -> LibPQConnection.PendingStatement {
            try await withTaskExecutorPreference(connection.ioThread.taskExecutor) {
                _ = try await connection.executeInPlace("SELECT 1")
                let started = try connection.startInPlace(sql, parameters: [], resultFormat: .text, prepared: false)
                guard case .waiting(let pending) = started else {
                    Issue.record("the statement did not wait: \(started)")
                    throw CancellationError()
                }
                return pending
            }
        }
        func complete(_ pending: LibPQConnection.PendingStatement, deadline: ContinuousClock.Instant? = nil)
            -> Task<QueryResult, any Error>
        {
            Task.detached {
                #expect(!connection.ioThread.isCurrent)
                return try await connection.completeWaiting(pending, deadline: deadline.map(OffsetInstant.init))
            }
        }

        let answered = try await complete(start("SELECT pg_sleep(0.2), 'answered'")).value
        #expect(answered.string(row: 0, column: 1) == "answered")

        let cancelled = complete(try await start("SELECT pg_sleep(5)"))
        try await Task.sleep(for: .milliseconds(300))
        cancelled.cancel()
        let cancelError = await #expect(throws: TransportError.self) { try await cancelled.value }
        #expect(cancelError?.code == .cancelled)
        #expect(cancelError?.phase == .sent)
        #expect(cancelError?.isConnectionUsable == true)

        let late = try await start("SELECT pg_sleep(5)")
        let deadlineError = await #expect(throws: TransportError.self) {
            try await complete(late, deadline: .now.advanced(by: .milliseconds(200))).value
        }
        #expect(deadlineError?.code == .deadlineExceeded)
        #expect(deadlineError?.phase == .sent)
        #expect(deadlineError?.isConnectionUsable == true)

        #expect(try await connection.executeInPlace("SELECT 5").string(row: 0, column: 0) == "5")
        await connection.close()
    }

    final class Flag: Sendable {
        let isSet = Mutex(false)
    }

    /// A statement whose task resumed elsewhere after a wait, and which therefore finished away from its own job on
    /// the thread (on the actor, or in place from the global executor), takes its cancellation with it: a cancel of
    /// its task once the statement is over, while the task is still on its way back to its own code, never cancels
    /// the next statement on the connection.
    @Test func aCancelAfterAStatementFinishedOnTheActorNeverHitsTheNextStatement() async throws {
        // When the statement's last read parses its notice, the threads of the global executor are held for a few
        // hundred milliseconds, so that the statement's task, back from the actor, waits for one with its statement
        // over and its cancellation handler still in place.
        let options = LibPQConnection.Options(noticeHandler: { notice in
            guard notice.message == "hold the global executor" else { return }
            for _ in 0..<(2 * ProcessInfo.processInfo.activeProcessorCount) {
                Task.detached(priority: .medium) { usleep(300_000) }
            }
        })
        let connection = try await TestServer.connect(options: options)
        let next = Self.Flag()
        let answer = try await withTaskExecutorPreference(connection.ioThread.taskExecutor) {
            _ = try await connection.executeInPlace("SELECT 1")
            // Started on the thread without preferring it: its wait resumes it there, and it leaves for the global
            // executor, from where it finishes the statement, on the actor while the thread runs jobs (the next
            // statement's task yields there without end) or in place.
            let statement = Task.immediate(priority: .medium) {
                #expect(connection.ioThread.isCurrent)
                return try await connection.executeInPlace(
                    "DO $$ BEGIN PERFORM pg_sleep(0.2); RAISE NOTICE 'hold the global executor'; END $$"
                )
            }
            // The next statement, on the connection's thread, as soon as the first one is over.
            let following = Task(executorPreference: connection.ioThread.taskExecutor) {
                let sql = "SELECT pg_sleep(0.5), 'next'"
                while true {
                    do {
                        switch try connection.startInPlace(sql, parameters: [], resultFormat: .text, prepared: false) {
                        case .answered(let result):
                            return result.string(row: 0, column: 1)
                        case .waiting(let pending):
                            next.isSet.withLock { $0 = true }
                            return try await connection.completeWaiting(pending, deadline: nil).string(row: 0, column: 1)
                        case .mustStartOnActor:
                            return try await connection.execute(sql).string(row: 0, column: 1)
                        }
                    } catch let error as TransportError where error.code == .connectionBusy {
                        await Task.yield()
                    }
                }
            }
            while !next.isSet.withLock({ $0 }) { await Task.yield() }
            // The first statement is over, its task not yet back from the actor, and the next one waits.
            statement.cancel()
            let answer = await following.result
            _ = try await statement.value
            return answer
        }
        #expect((try? answer.get()) == "next", "the next statement, whose task no one cancelled: \(answer)")
        await connection.close()
    }

    @Test func aStatementWhileRowsStreamFindsTheConnectionBusyAndLeavesTheStreamAlone() async throws {
        let connection = try await TestServer.connect()
        let rows = try await withTaskExecutorPreference(connection.ioThread.taskExecutor) {
            _ = try await connection.executeInPlace("SELECT 1")
            try await connection.startRows("SELECT g FROM generate_series(1, 3000) AS g")
            #expect(connection.ioThread.isCurrent)
            let busy = await #expect(throws: TransportError.self) { try await connection.executeInPlace("SELECT 1") }
            #expect(busy?.code == .connectionBusy)
            let busyPrepared = await #expect(throws: TransportError.self) {
                try await connection.executeInPlace(prepared: true, "SELECT 1")
            }
            #expect(busyPrepared?.code == .connectionBusy)
            var count = 0
            while let batches = try await connection.nextRows() {
                count += batches.reduce(0) { $0 + $1.rowCount }
            }
            return count
        }
        #expect(rows == 3000)
        #expect(try await connection.executeInPlace("SELECT 4").string(row: 0, column: 0) == "4")
        await connection.close()
    }

    /// A task cancelled at any moment of its statement, before it is sent, while it waits or between the two, never
    /// leaves the connection claimed.
    @Test func cancelsAtAnyMomentNeverLeaveTheConnectionClaimed() async throws {
        let connection = try await TestServer.connect()
        _ = try await connection.executeInPlace(prepared: true, "SELECT $1::int4 + 0", parameters: [.text("1")])
        var outcomes: [String: Int] = [:]
        for round in 0..<300 {
            let statement = Task(executorPreference: connection.ioThread.taskExecutor) {
                _ = try await connection.executeInPlace("SELECT 1")
                return round.isMultiple(of: 2)
                    ? try await connection.executeInPlace("SELECT pg_sleep(0.002)")
                    : try await connection.executeInPlace(
                        prepared: true, "SELECT $1::int4 + 0", parameters: [.text("1")]
                    )
            }
            try await Task.sleep(for: .microseconds(Int.random(in: 0...3000)))
            statement.cancel()
            do {
                _ = try await statement.value
                outcomes["answered", default: 0] += 1
            } catch let error as TransportError {
                outcomes["\(error.code)", default: 0] += 1
                #expect(error.code == .cancelled, "\(error)")
                #expect(error.isConnectionUsable, "\(error)")
            }
            if !connection.isIdleOutsideTransaction, await !connection.isUsable {
                Issue.record("round \(round): the connection was left claimed or broken")
                break
            }
            let next = try await withTaskExecutorPreference(connection.ioThread.taskExecutor) {
                try await connection.executeInPlace("SELECT 'next'").string(row: 0, column: 0)
            }
            #expect(next == "next")
        }
        // Which ends the rounds came to, in the test's log (shown if it fails).
        Logger(label: "test").info("outcomes: \(outcomes)")
        await connection.close()
    }

    /// A connection closed at any moment of a statement sent from its thread ends the statement as closed (or
    /// answered, when the answer came first), never with a crash, a hang or a phase that says nothing was sent
    /// when something was.
    @Test func closesAtAnyMomentEndEveryStatementAsClosedOrAnswered() async throws {
        for round in 0..<60 {
            let connection = try await TestServer.connect()
            _ = try await connection.executeInPlace(prepared: true, "SELECT $1::int4 + 0", parameters: [.text("1")])
            let statement = Task(executorPreference: connection.ioThread.taskExecutor) {
                _ = try await connection.executeInPlace("SELECT 1")
                return round.isMultiple(of: 2)
                    ? try await connection.executeInPlace("SELECT pg_sleep(0.002)")
                    : try await connection.executeInPlace(
                        prepared: true, "SELECT $1::int4 + 0", parameters: [.text("1")]
                    )
            }
            try await Task.sleep(for: .microseconds(Int.random(in: 0...3000)))
            await connection.close()
            do {
                _ = try await statement.value
            } catch let error as TransportError {
                #expect(error.code == .connectionClosed, "\(error)")
                #expect(error.isConnectionUsable == false, "\(error)")
            }
        }
    }
}

/// A notice handler that starts a statement on the same connection at once (`Task.immediate`), from within the
/// libpq call that read the notice: the statement runs its synchronous start there, on the connection's thread,
/// and must find the connection busy rather than touch it under the statement reading it.
@Suite("A notice handler that calls back into its connection", .capturingLogs, .enabled(if: TestServer.isAvailable, TestServer.skipReason))
struct NoticeReentryTests {
    final class Box: Sendable {
        let connection = Mutex<LibPQConnection?>(nil)
        let outcomes = Mutex<[String: Int]>([:])
    }

    @Test func aStatementStartedFromTheNoticeHandlerFindsTheConnectionBusy() async throws {
        let box = Box()
        let options = LibPQConnection.Options(noticeHandler: { _ in
            guard let connection = box.connection.withLock({ $0 }) else { return }
            Task.immediate {
                let outcome: String
                do {
                    _ = try await connection.executeInPlace("SELECT 1")
                    outcome = "ran"
                } catch let error as TransportError {
                    outcome = "\(error.code)"
                } catch {
                    outcome = "\(error)"
                }
                box.outcomes.withLock { $0[outcome, default: 0] += 1 }
            }
        })
        let connection = try await TestServer.connect(options: options)
        box.connection.withLock { $0 = connection }
        try await withTaskExecutorPreference(connection.ioThread.taskExecutor) {
            for _ in 0..<300 {
                do {
                    _ = try await connection.executeInPlace("DO $$ BEGIN RAISE NOTICE 'hello'; END $$")
                } catch let error as TransportError where error.code == .connectionBusy {
                    // The previous notice's statement got the connection first.
                }
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        box.connection.withLock { $0 = nil }
        Logger(label: "test").info("reentry outcomes: \(box.outcomes.withLock { $0 })")
        #expect(try await connection.executeInPlace("SELECT 5").string(row: 0, column: 0) == "5")
        await connection.close()
    }
}
