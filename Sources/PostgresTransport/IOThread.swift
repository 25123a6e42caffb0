import Foundation
import Glibc
import Synchronization

/// A thread that runs the work of the connections it serves and waits for their sockets: the executor of those
/// connections, so that an answer read from a socket is handled on the thread that saw it arrive, unless a task
/// elsewhere that waits for it reads it in its own job (``withIsolationIfIdle(_:)``).
///
/// Each thread runs one loop: it runs the jobs enqueued on it, then waits in its own `epoll_wait` (without
/// sleeping when jobs are pending) for the sockets registered with its ``readiness`` and for their deadlines,
/// resumes the waits that are over, and starts again. A job enqueued from the thread itself is queued without a
/// lock or a system call; one from another thread takes a lock, and wakes the loop only when it may be asleep.
///
/// The loop holds a lock of its own while it runs jobs, which another thread takes, when the loop runs none, to run a
/// short step isolated to the thread's connections in its own job (``withIsolationIfIdle(_:)``): a statement sent
/// from Swift's global executor is sent and read that way, without entering its connection's actor.
///
/// As a `SerialExecutor` it isolates the connections assigned to it (``LibPQConnection``'s `unownedExecutor`);
/// through ``taskExecutor`` it runs the nonisolated code of a task that prefers it (`withTaskExecutorPreference`),
/// so that a caller and its connection share the thread and no call between them changes threads.
///
/// The task executor is a companion object rather than the thread itself, because both roles enqueue through one
/// `enqueue` and a job must run differently in each (``Job/Role``). A connection's job runs isolated to the
/// thread's connections, and with the thread as its task executor as well when what runs on the thread at the time
/// is for a task that prefers it: the task switching (the runtime clears the current task before it enqueues a
/// switch, so the thread keeps track itself, told by the task's own code when it takes or drops a preference while
/// it runs here), or the loop resuming waits. Run with the wrong task executor, a job would make its task's next switch,
/// even to the same connection, go through the queue again. A job enqueued on the companion is the nonisolated
/// code of a task that prefers the thread (or the drain of a default actor such a task called), and runs isolated
/// to no actor, as on the global executor, so that its resumptions after each `await` stay inline; a wait the loop
/// resumes that was made isolated to a connection is the exception, as its task switches back to the connection at
/// once. Entering a connection from nonisolated code, and leaving it, are then the two switches through the queue
/// that a call into a connection costs; a statement started from the thread itself costs neither
/// (`LibPQConnection.startInPlace` sends it and reads its answer isolated to the connection, in the caller's job,
/// and `LibPQConnection.completeWaiting` waits for the rest from there too). Nor does the thread's own
/// `asUnownedTaskExecutor()` stand for the companion: `Task(executorPreference:)` keeps the object it is given, so
/// the identity a task carries must be that object's.
///
/// The threads are process-wide (``shared``), one per processor, and live as long as the process.
package final class IOThread: SerialExecutor, @unchecked Sendable {
    // @unchecked Sendable: `local`, `localHead`, `runsPreferredTask` and `isResumingWaits` are touched only by the
    // loop thread (`enqueue` checks `isCurrent` before touching them); everything shared is behind `remote`'s lock
    // or atomic.

    /// One job, and how to run it.
    private struct Job {
        /// How a job runs: which executor it is isolated to, and whether its task keeps this thread as its task
        /// executor.
        enum Role {
            /// A connection's job, for a task that does not prefer this thread.
            case isolated
            /// A connection's job, for a task that prefers this thread: it runs with the thread as its task
            /// executor too, so that the task's switches back to its nonisolated code come back to the thread.
            case isolatedPreferring
            /// The nonisolated code of a task that prefers this thread. It runs isolated to no actor, as
            /// nonisolated code does on the global executor: run isolated to the thread's connections instead, each
            /// of its switches to its own nonisolated code (every resumption after an `await`) would find another
            /// executor current, and go through the queue again.
            case nonisolated
            /// A job the runtime gives its global executor, when the threads are that executor
            /// (``IOThread/installAsGlobalExecutor()``): it runs as on that executor, isolated to no actor and with no
            /// task executor.
            case global
        }

        var job: UnownedJob
        var role: Role
    }

    private struct Remote {
        var jobs: [Job] = []
        /// Whether the loop is (about to be) blocked in `epoll_wait`, with a timeout other than 0.
        var isSleeping = false
        /// Whether a wake-up has been written since the loop went to sleep.
        var isWoken = false
    }

    /// The sockets this thread waits for.
    package let readiness: SocketReadiness
    private let remote = Mutex(Remote())
    /// The loop's thread, once it runs (`pthread_t` is an integer on Linux).
    private let threadID = Atomic<UInt>(0)
    // Unchecked exclusivity: touched only by the loop thread, never overlapping (a job runs after it is taken out).
    @exclusivity(unchecked) private var local: [Job] = []
    @exclusivity(unchecked) private var localHead = 0
    /// Whether what the loop does now is for a task that prefers this thread: running such a task's job, or
    /// resuming such a task's wait. A job enqueued meanwhile from this thread (the task switching, or resumed) is
    /// that task's. Set for each job by its role, and by the task itself when it takes, drops or finds a preference
    /// while it runs (``notePreference(_:)``).
    @exclusivity(unchecked) private var runsPreferredTask = false
    /// Whether the loop is resuming a wait that is over and was made isolated to a connection (see
    /// ``enqueuePreferring(_:)``).
    @exclusivity(unchecked) private var isResumingWaits = false
    private let taskExecutorRole: TaskExecutorRole
    /// Held by the loop while it runs jobs, and by another thread while it runs a step isolated to this thread's
    /// connections in its own job (``withIsolationIfIdle(_:)``): the connections' isolation, when it is not the
    /// thread's own. A `pthread_mutex_t` of its own, at a fixed address, as the thread lives as long as the process.
    private let jobLock: UnsafeMutablePointer<pthread_mutex_t>
    /// The thread running a step under ``jobLock`` away from the loop, 0 when none: what ``checkIsolated()`` accepts
    /// besides the loop's own thread.
    private let isolatedElsewhere = Atomic<UInt>(0)
    /// Whether the loop waits for ``jobLock``, which a step elsewhere holds: a hint to other steps not to take it
    /// meanwhile, so that steps one after the other rarely keep the loop from its jobs for longer than one of them.
    private let loopWaitsForJobLock = Atomic<Bool>(false)

    /// How many jobs run before the loop looks at its sockets again, so that I/O is never starved by jobs that
    /// keep enqueueing more.
    private static let jobsPerRound = 1024

    /// The process-wide threads, one per active processor.
    package static let shared: [IOThread] = (0..<max(1, ProcessInfo.processInfo.activeProcessorCount)).map {
        IOThread(name: "ResilientPostgres.io.\($0)")
    }
    private static let nextIndex = Atomic<Int>(0)
    private static let nextIndexForGlobalJobs = Atomic<Int>(0)

    /// The next of the ``shared`` threads, round robin: where a new connection goes.
    package static func next() -> IOThread {
        let index = nextIndex.wrappingAdd(1, ordering: .relaxed).oldValue
        return shared[Int(UInt(bitPattern: index) % UInt(shared.count))]
    }

    /// The next of the ``shared`` threads for a global job enqueued from another thread (``installAsGlobalExecutor()``),
    /// round robin on a count of its own, so that such jobs do not change where connections go.
    static func nextForGlobalJob() -> IOThread {
        let index = nextIndexForGlobalJobs.wrappingAdd(1, ordering: .relaxed).oldValue
        return shared[Int(UInt(bitPattern: index) % UInt(shared.count))]
    }

    /// Starts a thread of its own; it runs until the process ends.
    package init(name: String) {
        let taskExecutorRole = TaskExecutorRole()
        self.taskExecutorRole = taskExecutorRole
        jobLock = .allocate(capacity: 1)
        precondition(pthread_mutex_init(jobLock, nil) == 0, "pthread_mutex_init failed")
        readiness = SocketReadiness(taskExecutor: taskExecutorRole)
        taskExecutorRole.thread = self
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    /// The I/O thread the caller runs on, if it runs on one.
    package static var current: IOThread? {
        shared.first { $0.isCurrent }
    }

    /// The thread for a new connection: the caller's own, when it runs on an I/O thread (a task that prefers it, or
    /// an attempt on another session of it), so that the caller and the connection share it; otherwise the next one,
    /// round robin.
    ///
    /// With the threads as the global executor (``installAsGlobalExecutor()``) nearly every task runs on one, and the
    /// caller's own thread would gather all of a client's sessions on it: there it is taken only for a task that
    /// prefers it (`withSessionThread`), and every other connection goes round robin.
    package static func forNewConnection() -> IOThread {
        guard let current else { return next() }
        if isGlobalExecutor,
            !withUnsafeCurrentTask(body: { $0?.unownedTaskExecutor == current.taskExecutorRole.asUnownedTaskExecutor() })
        {
            return next()
        }
        return current
    }

    /// Whether the caller runs on this thread.
    package var isCurrent: Bool {
        pthread_equal(pthread_self(), threadID.load(ordering: .relaxed)) != 0
    }

    // MARK: - Executor

    /// Enqueues a connection's job, to run with this thread as its task executor too when what runs on the thread
    /// now is for a task that prefers it (``runsPreferredTask``): a task switching to a connection, the usual case,
    /// or the loop resuming waits. The runtime gives no other way to tell: it clears the current task before it
    /// enqueues a switch. A job enqueued for another task than the one running (a task started from a connection's
    /// code, or another task's job that an app's actor runs in a job of a task that prefers the thread), or from
    /// another thread (a task that prefers this thread but enters a connection from elsewhere), may be told wrong;
    /// that costs its switches, and its waits (``runsTaskThatPrefersIt``), trips through the queue until it leaves
    /// the thread or its task tells the thread (``notePreference(_:)``), never its isolation.
    package func enqueue(_ job: consuming ExecutorJob) {
        enqueue(Job(job: UnownedJob(job), role: isCurrent && runsPreferredTask ? .isolatedPreferring : .isolated))
    }

    /// Tells the thread whether what runs on it from now on is for a task that prefers it (``runsPreferredTask``);
    /// called by a task's own code on the thread just before it takes a preference of the thread, and just before
    /// it drops one (``SocketReadiness/preferringThread(isolation:_:)``, ``SocketReadiness/wait(for:on:deadline:prefersThread:isolation:)``).
    /// The switches the task then makes (into the preference's closure, out of it) are enqueued to run as the task
    /// will need, with the thread as its task executor or without: otherwise each would find another task executor
    /// current, and go through the queue again.
    func notePreference(_ prefers: Bool) {
        guard isCurrent else { return }
        runsPreferredTask = prefers
    }

    /// Whether the caller runs on this thread in a job the thread ran for a task that prefers it
    /// (``runsPreferredTask``), as far as the thread can tell: true for the usual cases, a task's nonisolated code
    /// run here as its task executor's, its switches into a connection, and the loop's resumption of its waits.
    /// False says nothing: a task that prefers the thread may run here without the thread knowing (it entered a
    /// connection from another thread).
    ///
    /// True can be a guess that is wrong, as the roles of jobs can (``enqueue(_:)``): for a task started from a
    /// connection's code, for another task's job that an app's actor runs here while a task that prefers the thread
    /// had it scheduled (the actor's jobs then run here in that job, whoever's they are), or for a task that prefers
    /// another I/O thread and reached this one that way. Such a task's waits then take no preference of the thread:
    /// each resumes through the task's own executor before it comes back (to the connection, or, when it waited in
    /// nonisolated code, wherever the task runs, which checks for the thread before it reads the connection). That
    /// costs those rare waits a hand-over each, never their isolation or their resumption.
    var runsTaskThatPrefersIt: Bool {
        isCurrent && runsPreferredTask
    }

    package func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// This thread as a task executor, for `withTaskExecutorPreference` or `Task(executorPreference:)`: the
    /// nonisolated code of a task that prefers it runs here.
    package var taskExecutor: any TaskExecutor { taskExecutorRole }

    package func isSameExclusiveExecutionContext(other: IOThread) -> Bool {
        self === other
    }

    package func checkIsolated() {
        precondition(
            isIsolatingCurrentThread, "expected to run on \(Thread.current.name ?? "an I/O thread"), but did not"
        )
    }

    package func isIsolatingCurrentContext() -> Bool? {
        isIsolatingCurrentThread
    }

    /// Whether the caller runs isolated to this thread's connections: on the thread, or in
    /// ``withIsolationIfIdle(_:)``'s step.
    private var isIsolatingCurrentThread: Bool {
        isCurrent || pthread_equal(pthread_self(), isolatedElsewhere.load(ordering: .relaxed)) != 0
    }

    /// Runs `step`, synchronous code isolated to this thread's connections, on the calling thread, another than
    /// this one, if the loop is not running jobs now (it waits in `epoll_wait`, or between its turns); returns nil,
    /// running nothing, when it is. Until `step` returns, the loop runs no job.
    ///
    /// For a statement sent by a task that runs elsewhere (on Swift's global executor, the usual case): its send
    /// and the reads after its waits are short steps, which then cost no trip into the connection on this thread
    /// and back, two hand-overs between threads; its task waits for its socket from its own executor, and resumes
    /// there (`LibPQConnection.startInPlace`). A loop that has jobs to run meanwhile waits for the step, usually a
    /// few microseconds (a step that reads a large result, or whose thread is preempted, lasts longer), and other
    /// steps then stand back until it has them (``loopWaitsForJobLock``, a hint: one that read it just before may
    /// still come first).
    ///
    /// Never waits for the lock itself, so that two threads each in a job or a step of their own, each trying the
    /// other's, never wait for each other.
    ///
    /// Returns nil as well once the I/O threads are the global executor (``installAsGlobalExecutor()``): a task away
    /// from this thread then runs on another I/O thread, and entering the connection's actor brings it here, where
    /// its next statements start in its own job without a lock, where a step from there would keep it away, and
    /// take this thread's lock for each of them.
    @inline(__always)
    package func withIsolationIfIdle<Result>(_ step: () throws -> Result) rethrows -> Result? {
        assert(!isCurrent, "a step on the loop's own thread needs no lock")
        guard !Self.isGlobalExecutor, !loopWaitsForJobLock.load(ordering: .relaxed),
            pthread_mutex_trylock(jobLock) == 0
        else { return nil }
        isolatedElsewhere.store(pthread_self(), ordering: .relaxed)
        defer {
            isolatedElsewhere.store(0, ordering: .relaxed)
            pthread_mutex_unlock(jobLock)
        }
        return try step()
    }

    private func enqueue(_ job: Job) {
        if isCurrent {
            local.append(job)
            return
        }
        let mustWake = remote.withLock { remote -> Bool in
            remote.jobs.append(job)
            guard remote.isSleeping, !remote.isWoken else { return false }
            remote.isWoken = true
            return true
        }
        if mustWake { readiness.wake() }
    }

    /// Enqueues a job of a task that prefers this thread, for its nonisolated code.
    ///
    /// A wait the loop resumes that was made isolated to a connection is the exception: its task resumes in
    /// nonisolated code (a continuation always does) only to switch back at once to the connection that waited, so
    /// its job runs isolated to the connections here, and that switch is made inline rather than through the queue.
    /// A wait made from nonisolated code goes on there (`SocketReadiness.Resumption.resumesIsolated`).
    private func enqueuePreferring(_ job: consuming ExecutorJob) {
        enqueue(Job(job: UnownedJob(job), role: isCurrent && isResumingWaits ? .isolatedPreferring : .nonisolated))
    }

    /// Enqueues a job the runtime would give its global executor (``installAsGlobalExecutor()``), called on this
    /// thread: it stays here, unless jobs are queued here already and another thread sleeps, which then takes it.
    ///
    /// A task resuming after a query finds the queue empty and stays, so its next query starts where the last one's
    /// answer arrived; tasks started together (a task group's children, say) spread over the idle threads instead of
    /// waiting their turn on one.
    func enqueueGlobal(_ job: UnownedJob) {
        let queued = Job(job: job, role: .global)
        if localHead < local.count {
            for thread in Self.shared where thread !== self {
                if thread.enqueueIfSleeping(queued) { return }
            }
        }
        enqueue(queued)
    }

    /// Enqueues a global job from a thread that is none of the I/O threads (``installAsGlobalExecutor()``).
    func enqueueFromElsewhere(_ job: UnownedJob) {
        enqueue(Job(job: job, role: .global))
    }

    /// Enqueues `job` and wakes the loop if it sleeps; returns false, enqueueing nothing, if it is awake.
    private func enqueueIfSleeping(_ job: Job) -> Bool {
        let taken = remote.withLock { remote -> Bool in
            guard remote.isSleeping, !remote.isWoken else { return false }
            remote.jobs.append(job)
            remote.isWoken = true
            return true
        }
        if taken { readiness.wake() }
        return taken
    }

    /// The thread in the role of task executor: jobs enqueued here belong to tasks that prefer the thread.
    final class TaskExecutorRole: TaskExecutor, @unchecked Sendable {
        // @unchecked Sendable: `thread` is set once, in the thread's initializer, before the object is shared. The
        // reference cycle is harmless: an I/O thread lives as long as the process.
        var thread: IOThread?

        func enqueue(_ job: consuming ExecutorJob) {
            thread?.enqueuePreferring(job)
        }

        /// See ``IOThread/notePreference(_:)``.
        func notePreference(_ prefers: Bool) {
            thread?.notePreference(prefers)
        }

        /// See ``IOThread/runsTaskThatPrefersIt``.
        var runsTaskThatPrefersIt: Bool {
            thread?.runsTaskThatPrefersIt ?? false
        }
    }

    // MARK: - The loop

    private func run() {
        threadID.store(pthread_self(), ordering: .relaxed)
        var ready: [SocketReadiness.Resumption] = []
        while true {
            runLocalJobs()
            var timeout: Int32 = 0
            if localHead == local.count {
                timeout = readiness.timeoutUntilNextDeadline()
                if timeout != 0 {
                    remote.withLock { remote in
                        if remote.jobs.isEmpty { remote.isSleeping = true } else { timeout = 0 }
                    }
                }
            }
            readiness.poll(timeout: timeout, into: &ready)
            remote.withLock { remote in
                remote.isSleeping = false
                remote.isWoken = false
                if remote.jobs.isEmpty { return }
                if local.isEmpty {
                    swap(&local, &remote.jobs)
                } else {
                    local.append(contentsOf: remote.jobs)
                    remote.jobs.removeAll(keepingCapacity: true)
                }
            }
            // Emptied only when it holds something: most turns resume no one, and emptying an empty array still
            // costs a call of the standard library's general removal.
            if ready.isEmpty { continue }
            // A waiting task prefers this thread while it waits (`SocketReadiness.wait`), unless it waits away from
            // it: its resumption then goes to its own executor, not through `enqueue`, and this changes nothing.
            runsPreferredTask = true
            for resumption in ready {
                isResumingWaits = resumption.resumesIsolated
                resumption.continuation.resume(returning: resumption.outcome)
            }
            isResumingWaits = false
            runsPreferredTask = false
            ready.removeAll(keepingCapacity: true)
        }
    }

    /// Takes ``jobLock`` from a step elsewhere that holds it (``withIsolationIfIdle(_:)``), usually for a few
    /// microseconds; other steps stand back meanwhile (see ``loopWaitsForJobLock``).
    @inline(never)
    private func waitForJobLock() {
        loopWaitsForJobLock.store(true, ordering: .relaxed)
        pthread_mutex_lock(jobLock)
        loopWaitsForJobLock.store(false, ordering: .relaxed)
    }

    /// Runs the queued jobs, and those they enqueue, up to ``jobsPerRound``, holding ``jobLock``.
    private func runLocalJobs() {
        guard localHead < local.count else { return }
        if pthread_mutex_trylock(jobLock) != 0 { waitForJobLock() }
        let serialExecutor = asUnownedSerialExecutor()
        let taskExecutor = taskExecutorRole.asUnownedTaskExecutor()
        var ran = 0
        while localHead < local.count, ran < Self.jobsPerRound {
            let job = local[localHead]
            localHead += 1
            ran += 1
            switch job.role {
            case .isolated:
                runsPreferredTask = false
                job.job.runSynchronously(on: serialExecutor)
            case .isolatedPreferring:
                runsPreferredTask = true
                job.job.runSynchronously(isolatedTo: serialExecutor, taskExecutor: taskExecutor)
            case .nonisolated:
                runsPreferredTask = true
                job.job.runSynchronously(on: taskExecutor)
            case .global:
                runsPreferredTask = false
                job.job.runSynchronously(on: Self.genericExecutor)
            }
        }
        pthread_mutex_unlock(jobLock)
        runsPreferredTask = false
        if localHead == local.count {
            local.removeAll(keepingCapacity: true)
            localHead = 0
        } else if localHead >= Self.jobsPerRound {
            local.removeFirst(localHead)
            localHead = 0
        }
    }
}
