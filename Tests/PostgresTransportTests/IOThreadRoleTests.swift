import Glibc
import PostgresTransport
import Testing

/// Switches between two connections of one I/O thread stay inline, without a trip through the thread's queue, for a
/// task that prefers the thread, one that does not, one that takes the preference inside a connection (as a
/// statement does for its waits), and a task started from a connection's code.
///
/// A trip through the queue shows as a job queued beforehand running first: each round trip starts a task that
/// marks the connection, then switches to the peer and back; the mark is set only if the switch was queued.
@Suite("I/O thread job roles")
struct IOThreadRoleTests {
    static let thread = IOThread.shared[0]

    actor Peer {
        nonisolated var unownedExecutor: UnownedSerialExecutor { IOThreadRoleTests.thread.asUnownedSerialExecutor() }
        func ping() async {}
    }

    actor Connection {
        nonisolated var unownedExecutor: UnownedSerialExecutor { IOThreadRoleTests.thread.asUnownedSerialExecutor() }
        let peer = Peer()
        var marked = false

        /// How many of `count` round trips to the peer went through the queue.
        func roundTripsThroughQueue(_ count: Int = 10) async -> Int {
            var trips = 0
            for _ in 0..<count {
                marked = false
                Task { self.marked = true }
                await peer.ping()
                if marked { trips += 1 }
            }
            return trips
        }

        func roundTripsInsideAPreferenceTakenHere() async -> Int {
            await IOThreadRoleTests.thread.readiness.preferringThread(isolation: self) {
                await roundTripsThroughQueue()
            }
        }

        func roundTripsAfterAPreferenceTakenHere() async -> Int {
            _ = await IOThreadRoleTests.thread.readiness.preferringThread(isolation: self) { 0 }
            return await roundTripsThroughQueue()
        }

        /// Whether the thread's readiness finds that the task prefers the thread.
        func prefersThread() -> Bool {
            IOThreadRoleTests.thread.readiness.taskPrefersThread()
        }

        func prefersThreadAfterAPreferenceTakenHere() async -> Bool {
            _ = await IOThreadRoleTests.thread.readiness.preferringThread(isolation: self) { 0 }
            return prefersThread()
        }

        func roundTripsOfATaskStartedHere() async -> Int {
            await Task { await roundTripsThroughQueue() }.value
        }

        /// Round trips after a wait for a socket that is writable at once, as a statement's wait.
        func roundTripsAfterAWait() async -> Int {
            var descriptors: [Int32] = [-1, -1]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &descriptors) == 0 else { return -1 }
            defer { descriptors.forEach { close($0) } }
            let readiness = IOThreadRoleTests.thread.readiness
            let outcome = await readiness.wait(
                for: .writable, on: readiness.register(descriptors[0]), deadline: .now + .seconds(30)
            )
            guard outcome == .ready else { return -1 }
            return await roundTripsThroughQueue()
        }
    }

    @Test func aTaskThatPrefersTheThreadSwitchesInline() async {
        let connection = Connection()
        let trips = await withTaskExecutorPreference(Self.thread.taskExecutor) {
            await connection.roundTripsThroughQueue()
        }
        #expect(trips <= 1)
    }

    @Test func aTaskWithoutAPreferenceSwitchesInline() async {
        let connection = Connection()
        #expect(await Task.detached { await connection.roundTripsThroughQueue() }.value <= 1)
    }

    @Test func aPreferenceTakenInsideAConnectionKeepsSwitchesInline() async {
        let connection = Connection()
        #expect(await Task.detached { await connection.roundTripsInsideAPreferenceTakenHere() }.value <= 1)
        #expect(await Task.detached { await connection.roundTripsAfterAPreferenceTakenHere() }.value <= 1)
    }

    @Test func aWaitWithAPreferenceOfItsOwnLeavesSwitchesInline() async {
        let connection = Connection()
        #expect(await Task.detached { await connection.roundTripsAfterAWait() }.value == 0)
    }

    @Test func aTaskStartedFromAConnectionSwitchesInline() async {
        let connection = Connection()
        let trips = await withTaskExecutorPreference(Self.thread.taskExecutor) {
            await connection.roundTripsOfATaskStartedHere()
        }
        #expect(trips <= 1)
    }

    /// A task that prefers the thread is found to prefer it; a task without a preference that enters a connection
    /// from elsewhere is not, nor is one that took a preference in the connection and dropped it. (A task started
    /// from a connection's code can be guessed wrong by the thread: see `IOThread.runsTaskThatPrefersIt`.)
    @Test func onlyATaskThatPrefersTheThreadIsFoundToPreferIt() async {
        let connection = Connection()
        let preferring = await withTaskExecutorPreference(Self.thread.taskExecutor) {
            await connection.prefersThread()
        }
        #expect(preferring)
        #expect(await Task.detached { await connection.prefersThread() }.value == false)
        #expect(await Task.detached { await connection.prefersThreadAfterAPreferenceTakenHere() }.value == false)
    }
}
