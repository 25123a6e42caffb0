internal import CEpoll
import Glibc
import Synchronization

extension IOThread {
    /// Whether ``installAsGlobalExecutor()`` installed the threads.
    package static var isGlobalExecutor: Bool { globalExecutorInstalled.load(ordering: .relaxed) }

    /// Swift Concurrency's generic executor, which a job of no actor runs on: the runtime's null executor reference,
    /// which the standard library has no public way to name.
    static let genericExecutor = unsafeBitCast((0 as UInt, 0 as UInt), to: UnownedSerialExecutor.self)

    private static let globalExecutorInstalled = Atomic<Bool>(false)

    /// Makes the I/O threads Swift Concurrency's global executor for the whole process: the nonisolated code of every
    /// task that prefers no executor runs on them, on the caller's own I/O thread when it enqueues from one. A task
    /// that calls a connection then resumes where the connection's answer arrived, without a switch of threads.
    ///
    /// Returns `false`, changing nothing, when the runtime offers no hook for it (`swift_task_enqueueGlobal_hook`)
    /// or something else has installed one. Jobs the runtime schedules with a delay (`Task.sleep`) still start
    /// where the runtime's own executor runs them, and come to the I/O threads at their next switch.
    package static func installAsGlobalExecutor() -> Bool {
        typealias EnqueueGlobalHook = @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "swift_task_enqueueGlobal_hook") else { return false }
        let hook: EnqueueGlobalHook = { job, _ in
            (IOThread.current ?? IOThread.next()).enqueueGlobal(job)
        }
        let slot = symbol.assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
        let installed = resilient_postgres_compare_exchange_pointer(slot, nil, unsafeBitCast(hook, to: UnsafeMutableRawPointer.self))
        if installed { globalExecutorInstalled.store(true, ordering: .relaxed) }
        return installed
    }
}
