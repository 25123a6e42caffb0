import Foundation
import PostgresTransport
import Synchronization
import ResilientPostgres
import Testing
import TestSupport

/// `PostgresClient.unsafeTryInstallIOThreadsAsGlobalExecutor()` changes the whole process, so its tests run in a
/// process of their own: this test starts the test binary again, for ``GlobalExecutorChildTests`` alone, and
/// expects every one of them to pass there.
@Suite(
    "The I/O threads as the global executor", .capturingLogs,
    .enabled(if: IntegrationServers.main, IntegrationServers.mainSkipReason)
)
struct GlobalExecutorTests {
    @Test func everyTestPassesInAProcessWhoseGlobalExecutorIsTheIOThreads() async throws {
        let testBinary = try #require(FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") as String?)
        let result = await withCheckedContinuation { continuation in
            Thread {
                continuation.resume(returning: Result {
                    try ChildProcess.runOnThisThread([
                        "timeout", "--kill-after=10", "300",
                        "env", "\(GlobalExecutorChild.variable)=1",
                        testBinary, "--testing-library", "swift-testing", "--filter", "GlobalExecutorChildTests",
                    ])
                })
            }.start()
        }
        let output = try result.get()
        // A child that skipped its tests (the variable lost on the way) would pass without showing anything.
        #expect(output.contains("Test run with \(GlobalExecutorChild.testCount) tests"), "\(output)")
        #expect(!output.contains("skipped"), "\(output)")
    }
}

/// How ``GlobalExecutorTests`` runs ``GlobalExecutorChildTests``.
enum GlobalExecutorChild {
    /// The environment variable, set to 1, that enables the child's tests.
    static let variable = "RESILIENT_POSTGRES_TEST_IO_THREADS_AS_GLOBAL_EXECUTOR"
    /// How many tests the child runs.
    static let testCount = 10
}

/// What must hold in a process whose global executor is the I/O threads; run by ``GlobalExecutorTests`` in a process
/// of its own, and skipped anywhere else.
@Suite(
    "In a process whose global executor is the I/O threads", .serialized,
    .enabled(
        if: ProcessInfo.processInfo.environment[GlobalExecutorChild.variable] == "1" && IntegrationServers.main,
        "runs in a process of its own, started by GlobalExecutorTests"
    )
)
struct GlobalExecutorChildTests {
    /// Installed once, by whichever test runs first.
    static let installed = PostgresClient.unsafeTryInstallIOThreadsAsGlobalExecutor()

    static var port: String { IntegrationServers.port("main") ?? "5432" }

    static func client(maxConnections: Int = 1) -> PostgresClient {
        PostgresClient(configuration: IntegrationServers.configuration(IntegrationServers.appParameters(port: port)) {
            $0.maxConnections = maxConnections
        })
    }

    @Test func onlyTheFirstInstallationTakes() {
        #expect(Self.installed)
        #expect(!PostgresClient.unsafeTryInstallIOThreadsAsGlobalExecutor())
    }

    /// A task's code runs on an I/O thread once it has been through the global executor (a yield), and after each
    /// query on the thread of the session that answered it: with one session, always the same thread.
    @Test func aTaskResumesOnItsSessionsThreadAfterEachQuery() async throws {
        try #require(Self.installed)
        await Task.yield()
        #expect(IOThread.current != nil)
        let client = Self.client()
        try await withCleanup {
            _ = try await client.query("SELECT 1", options: .readOnly)
            let thread = try #require(IOThread.current)
            for value in 0..<200 {
                #expect(try await client.query("SELECT \(value)::int4 + 1", options: .readOnly).decode(Int.self) == [value + 1])
                #expect(IOThread.current === thread)
            }
            try await Task.sleep(for: .milliseconds(5))
            _ = try await client.query("SELECT 1", options: .readOnly)
            #expect(IOThread.current === thread)
        } cleanup: {
            await client.shutdown()
        }
    }

    /// Concurrent tasks, more than sessions, with transactions and row streams among their queries: every answer
    /// arrives, and each task's own code stays on the I/O threads.
    @Test func concurrentTasksTransactionsAndStreamsAllComplete() async throws {
        try #require(Self.installed)
        let client = Self.client(maxConnections: 3)
        try await withCleanup {
            let totals = try await withThrowingTaskGroup(of: Int.self) { group in
                for task in 0..<8 {
                    group.addTask {
                        var total = 0
                        for round in 0..<50 {
                            switch round % 5 {
                            case 0:
                                total += try await client.transaction { transaction in
                                    try await transaction.query("SELECT \(task)::int4").decode(Int.self)[0]
                                        + transaction.query("SELECT \(round)::int4").decode(Int.self)[0]
                                }
                            case 1:
                                for try await row in try await client.rows(
                                    "SELECT i FROM generate_series(1, 100) AS i", options: .readOnly
                                ) {
                                    total += try row.decode(Int.self)
                                }
                            default:
                                total += try await client.query("SELECT \(round)::int4", options: .readOnly)
                                    .decode(Int.self)[0]
                            }
                            precondition(IOThread.current != nil, "a task's code left the I/O threads")
                        }
                        return total
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            let perTask = { (task: Int) in
                (0..<50).reduce(0) { sum, round in
                    switch round % 5 {
                    case 0: sum + task + round
                    case 1: sum + 5050
                    default: sum + round
                    }
                }
            }
            #expect(totals.sorted() == (0..<8).map(perTask).sorted())
        } cleanup: {
            await client.shutdown()
        }
    }

    /// Cancelling a task stops its statement on the server (the cancel request goes through the blocking pool and
    /// comes back), and the session serves the next operation.
    @Test func cancellingATaskStopsItsStatement() async throws {
        try #require(Self.installed)
        let client = Self.client()
        try await withCleanup {
            let sleeper = Task { try await client.execute("SELECT pg_sleep(60)") }
            try await Task.sleep(for: .milliseconds(300))
            sleeper.cancel()
            let started = ContinuousClock.now
            await #expect(throws: (any Error).self) { try await sleeper.value }
            #expect(ContinuousClock.now - started < .seconds(30))
            #expect(try await client.query("SELECT 7", options: .readOnly).decode(Int.self) == [7])
        } cleanup: {
            await client.shutdown()
        }
    }

    /// A session whose backend is terminated is replaced (a new connect, its host looked up on the blocking pool),
    /// and the read is retried on it.
    @Test func aTerminatedSessionIsReplacedAndTheReadRetried() async throws {
        try #require(Self.installed)
        let client = Self.client()
        let superuser = try await IntegrationServers.superuserSession(port: Self.port)
        try await withCleanup {
            let pid = try await client.query("SELECT pg_backend_pid()", options: .readOnly).decode(Int.self)[0]
            _ = try await superuser.execute("SELECT pg_terminate_backend($1)", parameters: [.text(String(pid))])
            let next = try await client.query("SELECT pg_backend_pid()", options: .readOnly).decode(Int.self)[0]
            #expect(next != pid)
            #expect(IOThread.current != nil)
        } cleanup: {
            await client.shutdown()
            await superuser.close()
        }
    }

    /// A task that sleeps resumes from the runtime's timer, not from an I/O thread, and its next switch brings it
    /// back to one.
    @Test func aTaskThatSleptComesBackToTheIOThreads() async throws {
        try #require(Self.installed)
        let client = Self.client()
        try await withCleanup {
            for _ in 0..<3 {
                try await Task.sleep(for: .milliseconds(20))
                _ = try await client.query("SELECT 1", options: .readOnly)
                #expect(IOThread.current != nil)
            }
        } cleanup: {
            await client.shutdown()
        }
    }
    /// A statement of a task with no preference of its own takes none for its waits: the global executor is the
    /// thread already.
    @Test func aStatementTakesNoPreferenceOfItsThread() async throws {
        try #require(Self.installed)
        await Task.yield()
        let thread = try #require(IOThread.current)
        #expect(thread.readiness.taskPrefersThread())
    }

    /// A client's sessions are placed round robin, not all on the thread of the task that opened them.
    @Test func aClientsSessionsSpreadOverTheThreads() async throws {
        try #require(Self.installed)
        try #require(IOThread.shared.count >= 2, "one I/O thread only")
        let client = Self.client(maxConnections: 2)
        let started = StartCount()
        try await withCleanup {
            let threads = try await withThrowingTaskGroup(of: ObjectIdentifier?.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        try await client.transaction { transaction in
                            _ = try await transaction.query("SELECT 1")
                            // Where the answer arrived: the session's thread.
                            let thread = IOThread.current.map(ObjectIdentifier.init)
                            // Both sessions held at once, so that the second transaction needs a session of its own.
                            started.value.add(1, ordering: .relaxed)
                            try await Self.waitUntil { started.value.load(ordering: .relaxed) == 2 }
                            return thread
                        }
                    }
                }
                return try await group.reduce(into: Set<ObjectIdentifier?>()) { $0.insert($1) }
            }
            #expect(!threads.contains(nil))
            #expect(threads.count == 2)
        } cleanup: {
            await client.shutdown()
        }
    }

    /// Children started together do not wait their turn on one thread while another is idle: two that each run
    /// without a suspension point until both have started find each other.
    ///
    /// A thread counts as idle only while it sleeps: on a loaded machine the other one may be awake at the moment
    /// the children are enqueued (an earlier test's client closing its sessions, a wake-up not yet taken), and both
    /// then run on one. Of three rounds, each after a pause, one must spread them.
    @Test func aTaskGroupsChildrenSpreadOverIdleThreads() async throws {
        try #require(Self.installed)
        try #require(IOThread.shared.count >= 2, "one I/O thread only")
        var rounds = 0
        var threads: [(ObjectIdentifier?, Bool)] = []
        repeat {
            rounds += 1
            try await Task.sleep(for: .milliseconds(100))
            await Task.yield()
            let started = StartCount()
            threads = await withTaskGroup(of: (ObjectIdentifier?, Bool).self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        started.value.add(1, ordering: .relaxed)
                        // A busy wait, bounded: on one thread the other child could not start until this one ended.
                        let limit = ContinuousClock.now + .seconds(2)
                        while started.value.load(ordering: .relaxed) < 2, ContinuousClock.now < limit {}
                        return (IOThread.current.map(ObjectIdentifier.init), started.value.load(ordering: .relaxed) == 2)
                    }
                }
                return await group.reduce(into: [(ObjectIdentifier?, Bool)]()) { $0.append($1) }
            }
        } while rounds < 3 && !(threads.allSatisfy { $0.1 } && Set(threads.map(\.0)).count == 2)
        #expect(threads.allSatisfy { $0.1 }, "a child ran alone in each of \(rounds) rounds")
        #expect(Set(threads.map(\.0)).count == 2)
    }

    /// A statement waiting from its task's job whose resumption goes to another I/O thread finishes on its
    /// connection's actor: its thread is kept busy by a task that prefers it and yields without end, so that the
    /// global job of the resumption finds jobs queued there and goes to the other thread, asleep.
    @Test func aWaitResumedOnAnotherThreadFinishesOnTheConnection() async throws {
        try #require(Self.installed)
        try #require(IOThread.shared.count >= 2, "one I/O thread only")
        let client = Self.client()
        try await withCleanup {
            _ = try await client.query("SELECT 1", options: .readOnly)
            let thread = try #require(IOThread.current)
            let before = LibPQConnection.waitsFinishedOnActor.load(ordering: .relaxed)
            let stop = StartCount()
            let busy = Task(executorPreference: thread.taskExecutor) {
                while stop.value.load(ordering: .relaxed) == 0 { await Task.yield() }
            }
            for value in 0..<20 {
                let rows = try await client.query("SELECT \(value)::int4 + 1 FROM pg_sleep(0.01)", options: .readOnly)
                #expect(try rows.decode(Int.self) == [value + 1])
            }
            stop.value.store(1, ordering: .relaxed)
            await busy.value
            #expect(LibPQConnection.waitsFinishedOnActor.load(ordering: .relaxed) > before)
            #expect(try await client.query("SELECT 2", options: .readOnly).decode(Int.self) == [2])
        } cleanup: {
            await client.shutdown()
        }
    }

    /// Polls `condition` every 10 ms, for at most 10 s.
    static func waitUntil(_ condition: () -> Bool) async throws {
        let limit = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < limit else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// How many of a test's tasks have started (or any count a test's tasks share).
private final class StartCount: Sendable {
    let value = Atomic(0)
}
