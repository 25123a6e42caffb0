internal import CEpoll
import Synchronization

extension IOThread {
    /// Whether ``installAsGlobalExecutor()`` installed the threads.
    package static var isGlobalExecutor: Bool { globalExecutorInstalled.load(ordering: .relaxed) }

    /// Swift Concurrency's generic executor, which a job of no actor runs on: the runtime's null executor reference,
    /// which the standard library has no public way to name.
    static let genericExecutor = unsafeBitCast((0 as UInt, 0 as UInt), to: UnownedSerialExecutor.self)

    private static let globalExecutorInstalled = Atomic<Bool>(false)

    /// Makes the I/O threads Swift Concurrency's global executor for the whole process: every job the runtime would
    /// give its global executor is enqueued on an I/O thread instead (``enqueueGlobal(_:)``: the enqueuing thread's
    /// own when it is one, else the next, round robin), and runs there as on the global executor. A task that calls
    /// a connection then resumes where the connection's answer arrived, without a switch of threads.
    ///
    /// Through the runtime's `swift_task_enqueueGlobal_hook`, set with a compare-and-exchange so that a hook set
    /// before (SwiftNIO's, say) is left alone. The hook's type is the runtime's, not a public API: the mode is
    /// offered only for the compilers (and so the runtimes) it was checked with.
    ///
    /// - Returns: Whether the threads are now the global executor: `false`, changing nothing, when a hook was set
    ///   already, or with a compiler it was not checked with.
    package static func installAsGlobalExecutor() -> Bool {
        #if compiler(>=6.0) && compiler(<6.4)
        typealias EnqueueGlobalHook = @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void
        let hook: EnqueueGlobalHook = { job, _ in
            if let thread = IOThread.current {
                thread.enqueueGlobal(job)
            } else {
                IOThread.nextForGlobalJob().enqueueFromElsewhere(job)
            }
        }
        let installed = resilient_postgres_install_enqueue_global_hook(unsafeBitCast(hook, to: UnsafeMutableRawPointer.self))
        if installed { globalExecutorInstalled.store(true, ordering: .relaxed) }
        return installed
        #else
        return false
        #endif
    }
}
