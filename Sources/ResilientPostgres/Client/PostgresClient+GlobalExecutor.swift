internal import PostgresTransport

extension PostgresClient {
    /// Makes the clients' I/O threads Swift Concurrency's global executor, for the whole process: code awaiting a
    /// query then resumes on the thread that read its answer, without a switch of threads.
    ///
    /// A session's statements run on its I/O thread, which also waits for its socket. A task on Swift's default
    /// global executor therefore changes threads twice a query, into the session's thread and back, and on a busy
    /// machine each change costs more than the query's own work in the client. Once this is installed, every job
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
    /// It is unsafe in the sense that it changes where all of the process's nonisolated async code runs, for good:
    /// - The I/O threads are one per processor. A task that blocks one (a lock held long, `DispatchSemaphore.wait`,
    ///   synchronous file or network I/O) stops the sessions on that thread, and a task that blocks waiting for
    ///   something only another task on that thread can do never wakes. CPU-heavy work holds them too: the thread
    ///   serves its sockets again after at most 1,024 jobs. Run blocking or long computations on threads of their
    ///   own.
    /// - Code isolated to an actor (the main actor, your own actors) still runs on that actor's executor, and gains
    ///   nothing. Jobs the runtime schedules after a delay (`Task.sleep`) start on its own timer threads, and come
    ///   back at their next switch.
    /// - It uses a hook of the Swift runtime (`swift_task_enqueueGlobal_hook`), as SwiftNIO's
    ///   `NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()` does; the two
    ///   exclude each other, and whichever is installed first wins.
    ///
    /// - Returns: Whether the I/O threads are now the global executor: `false`, changing nothing, when the runtime
    ///   offers no such hook, or something else (this call before, or another library) has installed one.
    @discardableResult
    public static func unsafeTryInstallIOThreadsAsGlobalExecutor() -> Bool {
        IOThread.installAsGlobalExecutor()
    }
}
