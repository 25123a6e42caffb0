import Foundation
import Synchronization
import PostgresPolicy
import PostgresTransport
import Testing
import TestSupport

/// Statements sent from a task on Swift's global executor, away from their connection's I/O thread: each step runs
/// in the caller's job while the thread's loop runs no job (`IOThread.withIsolationIfIdle`), and on the actor while
/// it does. What a statement on the actor promises holds for them too, whenever the task is cancelled, the deadline
/// passes or the connection is closed, and whatever other jobs of the connection run between their steps.
@Suite("Statements sent from another thread than their connection's", .capturingLogs, .enabled(if: TestServer.isAvailable, TestServer.skipReason))
struct ElsewhereStatementTests {
    /// Runs `body` while the connection's thread runs one job (a task that prefers it and spins until `body` is
    /// over): its loop runs no other job meanwhile, and holds its isolation. Keep `body` short: every connection of
    /// the thread, other tests' too, waits for it.
    static func whileTheThreadRunsAJob<Result>(
        _ thread: IOThread,
        _ body: () async throws -> Result
    ) async throws -> Result {
        let started = Flag(), released = Flag()
        let job = Task(executorPreference: thread.taskExecutor) {
            started.set()
            let limit = ContinuousClock.now + .seconds(5)
            while !released.isSet, ContinuousClock.now < limit {}
        }
        while !started.isSet { await Task.yield() }
        do {
            let result = try await body()
            released.set()
            await job.value
            return result
        } catch {
            released.set()
            await job.value
            throw error
        }
    }

    final class Flag: Sendable {
        private let value = Atomic(false)
        var isSet: Bool { value.load(ordering: .acquiring) }
        func set() { value.store(true, ordering: .releasing) }
    }

    /// Starts a statement in the caller's job from a task of the global executor, tried again while the thread runs
    /// another test's job (the statement then did nothing).
    static func startElsewhere(
        _ connection: LibPQConnection,
        _ sql: String,
        parameters: [Parameter] = [],
        prepared: Bool = false
    ) async throws -> LibPQConnection.StatementStart {
        try await Task.detached {
            #expect(!connection.ioThread.isCurrent)
            for _ in 0..<1000 {
                let started = try connection.startInPlace(
                    sql, parameters: parameters, resultFormat: .text, prepared: prepared
                )
                if case .mustStartOnActor = started {
                    try await Task.sleep(for: .milliseconds(1))
                    continue
                }
                return started
            }
            Issue.record("the statement never started in the caller's job")
            throw CancellationError()
        }.value
    }

    /// A statement that waits, started in the caller's job from the global executor.
    static func waitingElsewhere(
        _ connection: LibPQConnection,
        _ sql: String,
        parameters: [Parameter] = [],
        prepared: Bool = false
    ) async throws -> LibPQConnection.PendingStatement {
        let started = try await startElsewhere(connection, sql, parameters: parameters, prepared: prepared)
        guard case .waiting(let pending) = started else {
            Issue.record("the statement did not wait: \(started)")
            throw CancellationError()
        }
        return pending
    }

    /// Completes `pending` from a task of the global executor.
    static func complete(
        _ connection: LibPQConnection,
        _ pending: LibPQConnection.PendingStatement,
        deadline: ContinuousClock.Instant? = nil
    ) -> Task<QueryResult, any Error> {
        Task.detached {
            #expect(!connection.ioThread.isCurrent)
            return try await connection.completeWaiting(pending, deadline: deadline.map(OffsetInstant.init))
        }
    }

    /// From the global executor, with the thread idle (it may run another test's jobs now and then), a statement
    /// starts in the caller's job, without entering the actor.
    @Test func aStatementStartsInTheCallersJobWhileItsThreadIsIdle() async throws {
        let connection = try await TestServer.connect()
        for value in 0..<50 {
            let answer: QueryResult
            switch try await Self.startElsewhere(connection, "SELECT \(value)::int4 + 1") {
            case .answered(let result): answer = result
            case .waiting(let pending): answer = try await Self.complete(connection, pending).value
            case .mustStartOnActor: throw CancellationError()
            }
            #expect(answer.string(row: 0, column: 0) == "\(value + 1)")
        }
        await connection.close()
    }

    /// While the thread runs a job, a statement from elsewhere does not start in the caller's job; and one that
    /// started there and waits, completed while the thread runs a job, finishes on the actor once the job is over.
    @Test func whileTheThreadRunsAJobAStatementGoesThroughTheActor() async throws {
        let connection = try await TestServer.connect()
        let onActor = try await Self.whileTheThreadRunsAJob(connection.ioThread) {
            let started = try await Task.detached {
                try connection.startInPlace("SELECT 1", parameters: [], resultFormat: .text, prepared: false)
            }.value
            guard case .mustStartOnActor = started else {
                Issue.record("started while the thread ran a job: \(started)")
                throw CancellationError()
            }
            return Task.detached { try await connection.execute("SELECT 'on the actor'") }
        }
        #expect(try await onActor.value.string(row: 0, column: 0) == "on the actor")

        // Started with the thread idle; its answer comes while the thread runs a job, and waits for the job.
        let pending = try await Self.waitingElsewhere(connection, "SELECT pg_sleep(0.02), 'waited'")
        let finished = Flag()
        let completion = try await Self.whileTheThreadRunsAJob(connection.ioThread) {
            let completion = Task.detached {
                defer { finished.set() }
                return try await connection.completeWaiting(pending, deadline: nil)
            }
            try await Task.sleep(for: .milliseconds(60))
            #expect(!finished.isSet, "the statement finished while its thread ran a job")
            return completion
        }
        #expect(try await completion.value.string(row: 0, column: 1) == "waited")
        #expect(try await connection.execute("SELECT 2").string(row: 0, column: 0) == "2")
        await connection.close()
    }

    @Test func aCancelledTaskEndsItsStatementAndLeavesTheConnectionFree() async throws {
        let connection = try await TestServer.connect()
        let statement = Self.complete(connection, try await Self.waitingElsewhere(connection, "SELECT pg_sleep(5)"))
        try await Task.sleep(for: .milliseconds(300))
        statement.cancel()
        let error = await #expect(throws: TransportError.self) { try await statement.value }
        #expect(error?.code == .cancelled)
        #expect(error?.phase == .sent)
        #expect(error?.isConnectionUsable == true)
        #expect(try await connection.executeInPlace("SELECT 2").string(row: 0, column: 0) == "2")
        await connection.close()
    }

    @Test func aDeadlineCancelsAStatementThatWaits() async throws {
        let connection = try await TestServer.connect()
        let sql = "SELECT pg_sleep($1::float8)"
        // Prepared first, on the actor: a statement not yet prepared does not start in place.
        _ = try await connection.executePrepared(sql, parameters: [.text("0")])
        let pending = try await Self.waitingElsewhere(connection, sql, parameters: [.text("5")], prepared: true)
        let error = await #expect(throws: TransportError.self) {
            try await Self.complete(connection, pending, deadline: .now.advanced(by: .milliseconds(200))).value
        }
        #expect(error?.code == .deadlineExceeded)
        #expect(error?.phase == .sent)
        #expect(error?.isConnectionUsable == true)
        #expect(try await connection.executeInPlace("SELECT 3").string(row: 0, column: 0) == "3")
        await connection.close()
    }

    /// A close (a job on the thread) while a statement waits from elsewhere ends the wait at once.
    @Test func aCloseWhileTheStatementWaitsEndsItAtOnce() async throws {
        let connection = try await TestServer.connect()
        let statement = Self.complete(connection, try await Self.waitingElsewhere(connection, "SELECT pg_sleep(30)"))
        try await Task.sleep(for: .milliseconds(300))
        let closed = ContinuousClock.now
        await connection.close()
        let error = await #expect(throws: TransportError.self) { try await statement.value }
        #expect(ContinuousClock.now - closed < .seconds(10))
        #expect(error?.code == .connectionClosed)
        #expect(error?.phase == .sent)
        #expect(error?.isConnectionUsable == false)
    }

    /// Closes at any moment of statements sent from elsewhere (before the send, between it and the wait, during the
    /// wait): every statement ends, answered or failed as closed, and none hangs.
    @Test func closesAtAnyMomentEndEveryStatement() async throws {
        for round in 0..<100 {
            let connection = try await TestServer.connect()
            let statement = Task.detached {
                try await connection.executeInPlace(round.isMultiple(of: 2) ? "SELECT 1" : "SELECT pg_sleep(0.002)")
            }
            try await Task.sleep(for: .microseconds(Int.random(in: 0...3000)))
            await connection.close()
            do {
                _ = try await statement.value
            } catch let error as TransportError {
                #expect(error.code == .connectionClosed, "round \(round): \(error)")
            }
        }
    }

    /// A task cancelled at any moment of its statement never leaves the connection claimed.
    @Test func cancelsAtAnyMomentNeverLeaveTheConnectionClaimed() async throws {
        let connection = try await TestServer.connect()
        _ = try await connection.executePrepared("SELECT $1::int4 + 0", parameters: [.text("1")])
        for round in 0..<200 {
            let statement = Task.detached {
                round.isMultiple(of: 2)
                    ? try await connection.executeInPlace("SELECT pg_sleep(0.002)")
                    : try await connection.executeInPlace(prepared: true, "SELECT $1::int4 + 0", parameters: [.text("1")])
            }
            try await Task.sleep(for: .microseconds(Int.random(in: 0...3000)))
            statement.cancel()
            do {
                _ = try await statement.value
            } catch let error as TransportError {
                #expect(error.code == .cancelled, "round \(round): \(error)")
                if !error.isConnectionUsable { break }
            }
            #expect(try await connection.executeInPlace("SELECT 7").string(row: 0, column: 0) == "7")
        }
        await connection.close()
    }

    /// Statements from tasks of the global executor, on connections that share threads, while other tasks run
    /// statements on the same connections' actors without end (each side finding the connection busy now and then):
    /// every answer is right, and, under ThreadSanitizer, no step overlaps a job of its connection, as both claim the
    /// connection and read its state.
    @Test func stepsInPlaceAndJobsOfTheSameConnectionsNeverOverlap() async throws {
        var connections: [LibPQConnection] = []
        for _ in 0..<4 { connections.append(try await TestServer.connect()) }
        let stop = Flag()
        func busy(_ error: any Error) -> Bool { (error as? TransportError)?.code == .connectionBusy }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for connection in connections {
                group.addTask {
                    while !stop.isSet, !Task.isCancelled {
                        do {
                            _ = try await connection.execute("SELECT 'on the actor'")
                            _ = try await connection.executePrepared("SELECT $1::int4", parameters: [.text("0")])
                        } catch where busy(error) {
                            await Task.yield()
                        }
                        _ = await connection.transactionStatus
                    }
                }
            }
            for (index, connection) in connections.enumerated() {
                group.addTask {
                    var value = 0
                    while value < 300 {
                        let expected = index * 1000 + value
                        do {
                            let result = value.isMultiple(of: 3)
                                ? try await connection.executeInPlace(
                                    prepared: true, "SELECT $1::int4", parameters: [.text("\(expected)")]
                                )
                                : try await connection.executeInPlace(
                                    value.isMultiple(of: 10)
                                        ? "SELECT \(expected)::int4, pg_sleep(0.001)" : "SELECT \(expected)::int4"
                                )
                            #expect(result.string(row: 0, column: 0) == "\(expected)")
                            value += 1
                        } catch where busy(error) {
                            await Task.yield()
                        }
                    }
                }
            }
            // The statements' tasks first; then the callers into the actors.
            for _ in 0..<connections.count { try await group.next() }
            stop.set()
            try await group.waitForAll()
        }
        for connection in connections { await connection.close() }
    }
}
