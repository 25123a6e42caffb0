import BenchmarkSupport
import Dispatch
import Foundation
import LibPQWorkloads
import Synchronization

/// The floors: `seq_param` through libpq, driven from a Swift task with nothing else in the way. No pool, no retry,
/// no deadline, no cancellation, no decoding beyond the C check: what is left is a statement sent from a task that
/// then waits for the socket without blocking its thread, as ResilientPostgres's statements wait: one read tried
/// after the send, then a one-shot registration of the socket armed for each wait.
///
/// - `seq_param_floor`: the task runs on Swift's global executor. A wait parks it on a continuation; a thread of
///   its own waits on epoll and resumes it, which enqueues it on the global executor again. A thread hand-over per
///   wait, as for a ResilientPostgres task on the global executor.
/// - `seq_param_floor_thread`: the same with the task on the epoll thread, which is its task executor; a wait
///   returns the thread to epoll and the resumption runs there, as in `PostgresClient.withSessionThread`.
///
/// A client whose statements wait this way costs at least its floor's CPU a query; pinned, on one CPU with the
/// server, that is what bounds its throughput.
extension LibPQBenchmark {
    func runFloor(_ workload: Workload) async throws -> WorkloadRun {
        let session = try LibPQSession(settings.connectionString)
        try call { lpqw_floor_begin(session.raw, &$0) }
        let poller = try FloorPoller(session)
        defer { poller.stop() }
        let count = workload.operations
        switch workload {
        case .seqParamFloor:
            try await Self.selectParam(session, poller, count: Workload.warmupQueries)
            let timing = try await Stopwatch.time { try await Self.selectParam(session, poller, count: count) }
            return WorkloadRun(operations: count, timing: timing)
        case .seqParamFloorOnThread:
            return try await withTaskExecutorPreference(poller) {
                try await Self.selectParam(session, poller, count: Workload.warmupQueries)
                let timing = try await Stopwatch.time { try await Self.selectParam(session, poller, count: count) }
                return WorkloadRun(operations: count, timing: timing)
            }
        default:
            preconditionFailure("\(workload.rawValue) is not a floor")
        }
    }

    /// `count` statements, one after the other: send, then take the result and the statement's end, reading what
    /// has arrived and waiting while what comes next is incomplete.
    private static func selectParam(_ session: LibPQSession, _ poller: FloorPoller, count: Int) async throws {
        for n in 0..<Int64(count) {
            try call { lpqw_floor_send(session.raw, n, &$0) }
            var results: Int32 = 0
            while true {
                while try poller.isBusy() {
                    try await poller.waitUntilReadable()
                }
                var error = lpqw_error()
                let taken = lpqw_floor_take(session.raw, n, &results, &error)
                guard taken >= 0 else { throw LibPQFailure(error) }
                if taken == 1 { break }
            }
        }
    }
}

/// One connection's socket, waited on by a thread of its own that is also a task executor: it runs the jobs
/// enqueued on it and, between them, waits on epoll for the socket and for new jobs.
private final class FloorPoller: TaskExecutor, @unchecked Sendable {
    private struct State {
        var jobs: [UnownedJob] = []
        var waiter: UnsafeContinuation<Void, any Error>?
        var stopping = false
    }

    private let session: LibPQSession
    /// The epoll set and the eventfd that wakes it; closed after the thread has ended.
    private let descriptors: (epoll: Int32, wake: Int32)
    private let state = Mutex(State())
    /// The thread's pthread_t, once it runs: enqueueing from it needs no wake-up.
    private let thread = Atomic<UInt>(0)
    private let ended = DispatchSemaphore(value: 0)

    init(_ session: LibPQSession) throws {
        self.session = session
        var opened: (Int32, Int32) = (-1, -1)
        try withUnsafeMutableBytes(of: &opened) { raw in
            let pair = raw.baseAddress!.assumingMemoryBound(to: Int32.self)
            try call { lpqw_poller_open(session.raw, pair, &$0) }
        }
        descriptors = opened
        let thread = Thread { [self] in run() }
        thread.name = "floor-epoll"
        thread.start()
    }

    /// Whether what comes next (the result, or the statement's end) is still incomplete after reading what has
    /// arrived.
    func isBusy() throws -> Bool {
        var error = lpqw_error()
        let busy = lpqw_floor_read(session.raw, &error)
        guard busy >= 0 else { throw LibPQFailure(error) }
        return busy == 1
    }

    /// Parks the task until the socket is readable.
    func waitUntilReadable() async throws {
        try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
            state.withLock { $0.waiter = continuation }
            if lpqw_poller_arm(descriptors.epoll, session.raw) != 0 {
                let failure = POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
                let waiter = state.withLock { state in defer { state.waiter = nil }; return state.waiter }
                waiter?.resume(throwing: failure)
            }
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        state.withLock { $0.jobs.append(job) }
        if thread.load(ordering: .acquiring) != UInt(pthread_self()) {
            lpqw_poller_wake(descriptors.wake)
        }
    }

    /// Ends the thread (after the jobs it has) and closes the descriptors; called off the thread, by a task no
    /// longer waiting on it.
    func stop() {
        precondition(
            thread.load(ordering: .acquiring) != UInt(pthread_self()),
            "floor: stop() on the epoll thread would wait for itself"
        )
        state.withLock { $0.stopping = true }
        lpqw_poller_wake(descriptors.wake)
        ended.wait()
        var pair = [descriptors.epoll, descriptors.wake]
        lpqw_poller_close(&pair)
    }

    private func run() {
        thread.store(UInt(pthread_self()), ordering: .releasing)
        defer { ended.signal() }
        var jobs: [UnownedJob] = []
        while true {
            let stopping = state.withLock { state in
                swap(&jobs, &state.jobs)
                return state.stopping
            }
            if !jobs.isEmpty {
                for job in jobs { job.runSynchronously(on: asUnownedTaskExecutor()) }
                jobs.removeAll(keepingCapacity: true)
                continue
            }
            if stopping { return }
            switch lpqw_poller_wait(descriptors.epoll, descriptors.wake) {
            case 1:
                let waiter = state.withLock { state in defer { state.waiter = nil }; return state.waiter }
                waiter?.resume()
            case 0:
                continue
            default:
                // Only a broken descriptor makes epoll_wait fail: end the child with the reason rather than hang.
                fatalError("floor: epoll_wait failed: \(String(cString: strerror(errno)))")
            }
        }
    }
}
