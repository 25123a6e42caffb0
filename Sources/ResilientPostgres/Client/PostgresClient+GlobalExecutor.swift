internal import PostgresTransport

extension PostgresClient {
    /// Makes the clients' I/O threads Swift Concurrency's global executor, for the whole process: code awaiting a
    /// query then resumes on the thread that read its answer, without a switch of threads.
    ///
    /// A session's I/O thread waits for its socket. A task on Swift's default global executor sends a query from
    /// its own thread while the session's thread runs nothing else, and changes threads once for each wait for the
    /// answer (the I/O thread that saw it arrive hands the task back to the global executor), twice when it must
    /// enter the busy session's thread; on a busy machine each change costs more than the query's own work in the
    /// client. Once this is installed, every job
    /// the runtime would give its global executor runs on an I/O thread instead (on the enqueuing thread's own, when
    /// that is one): a task's code after `await client.query(...)` runs where the answer arrived, and the next
    /// query starts there. A loop of queries then costs what libpq's does, one wait for the server a query, in
    /// every task of the app, not only inside ``withSessionThread(isolation:_:)``.
    ///
    /// Call it once, at the start of the app's `main`, before the app starts its work:
    ///
    /// ```swift
    /// static func main() async throws {
    ///     PostgresClient.unsafeTryInstallIOThreadsAsGlobalExecutor()
    ///     try await runApp()
    /// }
    /// ```
    ///
    /// It is unsafe in the sense that it changes where much of the process's code runs, for good:
    /// - The code of every task and of every actor of your own (an actor with no executor of its own runs where the
    ///   global executor runs it) runs on the I/O threads, one per processor, first come first served, without
    ///   regard to priority. A job stays on the thread that enqueued it, unless that thread has jobs queued already
    ///   and another I/O thread is idle, which then takes it: a task group's children spread over idle threads, but
    ///   a busy thread keeps what it enqueues.
    /// - A task that blocks an I/O thread (a lock held long, `DispatchSemaphore.wait`, synchronous file or network
    ///   I/O) stops the sessions on that thread and every task queued there, and a task that blocks waiting for
    ///   something only another task on that thread can do never wakes. CPU-heavy work holds them too: the thread
    ///   serves its sockets again after at most 1,024 jobs. Run blocking or long computations on threads of their
    ///   own.
    /// - The main actor, and actors with an executor of their own, still run on their executors, and gain nothing.
    ///   Jobs the runtime schedules after a delay (`Task.sleep`) start on Dispatch's threads, and come back to the
    ///   I/O threads at their next switch.
    /// - It sets a hook of the Swift runtime (`swift_task_enqueueGlobal_hook`), as SwiftNIO's
    ///   `NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()` does; the two
    ///   exclude each other, and whichever is installed first wins. The hook is not a public API of the runtime,
    ///   so the call is offered only with the Swift versions it was checked with (6.0 to 6.3), and returns `false`
    ///   with others.
    ///
    /// - Returns: Whether the I/O threads are now the global executor: `false`, changing nothing, when something
    ///   (this call before, or another library) has installed a hook already, or with a Swift version it was not
    ///   checked with.
    @discardableResult
    public static func unsafeTryInstallIOThreadsAsGlobalExecutor() -> Bool {
        IOThread.installAsGlobalExecutor()
    }
}
