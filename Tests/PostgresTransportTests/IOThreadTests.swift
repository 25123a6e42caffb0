import Foundation
import PostgresTransport
import Synchronization
import Testing
import TestSupport

/// The I/O threads as executors, without a server.
@Suite("I/O threads", .capturingLogs)
struct IOThreadTests {
    static let thread = IOThread.shared[0]

    /// An actor isolated to an I/O thread, as a connection is.
    actor OnThread {
        nonisolated var unownedExecutor: UnownedSerialExecutor { IOThreadTests.thread.asUnownedSerialExecutor() }
        private var count = 0

        func increment() async -> Bool {
            count += 1
            return IOThreadTests.thread.isCurrent
        }

        var total: Int { count }

        /// Waits for `descriptor` to be readable and says whether the wait resumed on the thread.
        func waitResumesOnThread(_ descriptor: Int32) async -> Bool {
            let readiness = IOThreadTests.thread.readiness
            _ = await readiness.wait(for: .readable, on: readiness.register(descriptor), deadline: .now + .seconds(10))
            return IOThreadTests.thread.isCurrent
        }

        func assumeIsolatedFromSynchronousCode() -> Bool {
            IOThreadTests.thread.checkIsolated()
            return true
        }
    }

    @Test func anActorOnTheThreadRunsThereForEveryCaller() async throws {
        let actor = OnThread()
        let onThread = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<200 {
                group.addTask { await actor.increment() }
            }
            return await group.reduce(true) { $0 && $1 }
        }
        #expect(onThread)
        #expect(await actor.total == 200)
        #expect(await actor.assumeIsolatedFromSynchronousCode())
        #expect(!Self.thread.isCurrent)
    }

    @Test func aWaitResumesOnTheThreadOfItsActor() async throws {
        let pair = try SocketReadinessTests.SocketPair()
        let actor = OnThread()
        let wait = Task { await actor.waitResumesOnThread(pair.waited) }
        try await Task.sleep(for: .milliseconds(50))
        pair.send()
        #expect(await wait.value)
    }

    @Test func aTaskThatPrefersTheThreadRunsItsOwnCodeThere() async throws {
        let actor = OnThread()
        let onThread = await withTaskExecutorPreference(Self.thread.taskExecutor) {
            var everywhere = Self.thread.isCurrent
            for _ in 0..<100 {
                everywhere = await actor.increment() && everywhere
                // Back in the task's own nonisolated code, after the call.
                everywhere = Self.thread.isCurrent && everywhere
            }
            return everywhere
        }
        #expect(onThread)
        let detached = await Task(executorPreference: Self.thread.taskExecutor) { Self.thread.isCurrent }.value
        #expect(detached)
    }
}

/// The bounded pools that run libpq's blocking calls.
@Suite("Blocking pools", .capturingLogs)
struct BlockingPoolTests {
    /// A gate that blocking work waits at until it is opened.
    final class Gate: Sendable {
        private let semaphore = DispatchSemaphore(value: 0)
        func wait() { semaphore.wait() }
        func open(_ count: Int = 1) { for _ in 0..<count { semaphore.signal() } }
    }

    @Test func workBeyondTheBoundWaitsForAFreeThread() async throws {
        let pool = BlockingPool(name: "test.bounded", maximumThreads: 2)
        let gate = Gate()
        let started = Atomic<Int>(0)
        for _ in 0..<3 {
            pool.submit {
                started.add(1, ordering: .relaxed)
                gate.wait()
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(started.load(ordering: .relaxed) == 2)
        gate.open()
        let until = ContinuousClock.now + .seconds(5)
        while started.load(ordering: .relaxed) < 3, ContinuousClock.now < until {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(started.load(ordering: .relaxed) == 3)
        gate.open(2)
    }

    @Test func oneFullPoolLeavesTheOtherFree() async throws {
        let connects = BlockingPool(name: "test.connects", maximumThreads: 1)
        let cancels = BlockingPool(name: "test.cancels", maximumThreads: 1)
        let gate = Gate()
        connects.submit { gate.wait() }
        connects.submit { gate.wait() }
        #expect(await cancels.run { 42 } == 42)
        gate.open(2)
    }
}
