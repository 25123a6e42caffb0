import Foundation
import Synchronization
import PostgresTransport
import Testing
import TestSupport

/// Statements sent from a task on Swift's global executor, away from their connection's I/O thread: each step runs
/// in the caller's job while the thread's loop runs no job (`IOThread.withIsolationIfIdle`), and on the actor while
/// it does. What a statement on the actor promises holds for them too, whenever the task is cancelled, the deadline
/// passes or the connection is closed, and whatever other jobs of the connection run between their steps.
@Suite("Statements sent from another thread than their connection's", .capturingLogs, .enabled(if: TestServer.isAvailable, TestServer.skipReason))
struct ElsewhereStatementTests {
    /// Holds the connection's thread in one job until released: its loop runs no other job, and holds its isolation.
    final class Occupation: Sendable {
        private let started = Flag()
        private let released = Flag()
        private let task: Task<Void, Never>

        init(_ thread: IOThread) async {
            let started = self.started, released = self.released
            task = Task(executorPreference: thread.taskExecutor) {
                started.set()
                let limit = ContinuousClock.now + .seconds(10)
                while !released.isSet, ContinuousClock.now < limit {}
            }
            while !started.isSet { await Task.yield() }
        }

        func release() async {
            released.set()
            await task.value
        }
    }

    final class Flag: Sendable {
        private let value = Atomic(false)
        var isSet: Bool { value.load(ordering: .acquiring) }
        func set() { value.store(true, ordering: .releasing) }
    }

    /// From the global executor, with the thread idle (it may run another test's jobs now and then), a statement
    /// starts in the caller's job, without entering the actor.
    @Test func aStatementStartsInTheCallersJobWhileItsThreadIsIdle() async throws {
        let connection = try await TestServer.connect()
        let startedInPlace = try await Task.detached {
            #expect(!connection.ioThread.isCurrent)
            var startedInPlace = 0
            for value in 0..<50 {
                let sql = "SELECT \(value)::int4 + 1"
                let answer: QueryResult
                switch try connection.startInPlace(sql, parameters: [], resultFormat: .text, prepared: false) {
                case .answered(let result):
                    startedInPlace += 1
                    answer = result
                case .waiting(let pending):
                    startedInPlace += 1
                    answer = try await connection.completeWaiting(pending, deadline: nil)
                case .mustStartOnActor:
                    answer = try await connection.execute(sql)
                }
                #expect(answer.string(row: 0, column: 0) == "\(value + 1)")
            }
            return startedInPlace
        }.value
        #expect(startedInPlace > 0)
        await connection.close()
    }

    /// While the thread runs a job, a statement from elsewhere does not start in the caller's job; and one that
    /// started there and waits, completed while the thread runs a job, finishes on the actor once the job is over.
    @Test func whileTheThreadRunsAJobAStatementGoesThroughTheActor() async throws {
        let connection = try await TestServer.connect()
        let occupation = await Occupation(connection.ioThread)
        let started = try await Task.detached {
            try connection.startInPlace("SELECT 1", parameters: [], resultFormat: .text, prepared: false)
        }.value
        guard case .mustStartOnActor = started else {
            Issue.record("started while the thread ran a job: \(started)")
            await occupation.release()
            return
        }
        let onActor = Task.detached { try await connection.execute("SELECT 'on the actor'") }
        try await Task.sleep(for: .milliseconds(50))
        await occupation.release()
        #expect(try await onActor.value.string(row: 0, column: 0) == "on the actor")

        // Started with the thread idle (tried again while another test's job runs there); its answer comes while
        // the thread runs a job.
        let pending = try await Task.detached { () throws -> LibPQConnection.PendingStatement? in
            for _ in 0..<100 {
                let started = try connection.startInPlace(
                    "SELECT pg_sleep(0.2), 'waited'", parameters: [], resultFormat: .text, prepared: false
                )
                switch started {
                case .waiting(let pending): return pending
                case .answered: return nil
                case .mustStartOnActor: try await Task.sleep(for: .milliseconds(1))
                }
            }
            return nil
        }.value
        if let pending {
            let occupation = await Occupation(connection.ioThread)
            let completion = Task.detached { try await connection.completeWaiting(pending, deadline: nil) }
            try await Task.sleep(for: .milliseconds(400))
            await occupation.release()
            #expect(try await completion.value.string(row: 0, column: 1) == "waited")
        } else {
            Issue.record("the statement did not wait, or could not start in the caller's job")
        }
        #expect(try await connection.execute("SELECT 2").string(row: 0, column: 0) == "2")
        await connection.close()
    }

    @Test func aCancelledTaskEndsItsStatementAndLeavesTheConnectionFree() async throws {
        let connection = try await TestServer.connect()
        let statement = Task.detached { try await connection.executeInPlace("SELECT pg_sleep(5)") }
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
        let error = await #expect(throws: TransportError.self) {
            try await Task.detached {
                try await connection.executeInPlace(
                    prepared: true, "SELECT pg_sleep($1::float8)", parameters: [.text("5")],
                    deadline: .now.advanced(by: .milliseconds(200))
                )
            }.value
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
        let statement = Task.detached { try await connection.executeInPlace("SELECT pg_sleep(30)") }
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

    /// Statements from several tasks of the global executor, on connections that share threads, while other tasks
    /// call into the same connections' actors without end: every answer is right (and, under ThreadSanitizer, no
    /// step overlaps a job of its connection).
    @Test func stepsInPlaceAndJobsOfTheSameConnectionsNeverOverlap() async throws {
        var connections: [LibPQConnection] = []
        for _ in 0..<4 { connections.append(try await TestServer.connect()) }
        let stop = Flag()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for connection in connections {
                group.addTask {
                    while !stop.isSet, !Task.isCancelled {
                        _ = await connection.transactionStatus
                        _ = await connection.isUsable
                        _ = await connection.parameterStatus("server_version")
                    }
                }
            }
            for (index, connection) in connections.enumerated() {
                group.addTask {
                    for value in 0..<300 {
                        let sql = value.isMultiple(of: 10)
                            ? "SELECT \(index * 1000 + value)::int4, pg_sleep(0.001)"
                            : "SELECT \(index * 1000 + value)::int4"
                        let result = try await connection.executeInPlace(prepared: value.isMultiple(of: 3), sql)
                        #expect(result.string(row: 0, column: 0) == "\(index * 1000 + value)")
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
