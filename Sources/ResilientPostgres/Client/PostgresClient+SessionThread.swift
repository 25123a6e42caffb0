internal import PostgresTransport

extension PostgresClient {
    /// Runs `body` on the I/O thread of the session the client would lend next, so that the operations it makes one
    /// after another start and end where that session's socket is served, without a switch of threads.
    ///
    /// Called from Swift's global executor, an operation switches threads: a transaction or `withConnection` twice,
    /// into its attempt on its session's I/O thread and back, and a query once for each wait for its answer, on
    /// which its task resumes through the global executor. Under this call the task's own nonisolated code runs on
    /// that I/O thread too (`withTaskExecutorPreference`), and a session the pool opens meanwhile is placed on it, so
    /// a loop of queries costs what libpq's costs: one wait for the server per query.
    ///
    /// ```swift
    /// try await client.withSessionThread {
    ///     for id in ids {
    ///         try await client.execute("UPDATE jobs SET done = true WHERE id = \(id)")
    ///     }
    /// }
    /// ```
    ///
    /// While `body` runs, the thread serves no other session: keep CPU-heavy work out of it, and never block in it.
    /// Code isolated to an actor (the main actor, say) still runs on that actor's executor, and gains nothing. The
    /// operations of concurrent tasks may get sessions on other I/O threads: they work as always, with the switches.
    /// For every task of the process to run this way, make the I/O threads the global executor
    /// (``unsafeTryInstallIOThreadsAsGlobalExecutor()``).
    public func withSessionThread<Result, Failure: Error>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws(Failure) -> sending Result
    ) async throws(Failure) -> sending Result {
        let executor = pool.nextIdleConnection?.taskExecutor ?? IOThread.next().taskExecutor
        return try await withTaskExecutorPreference(executor, isolation: isolation) { () async throws(Failure) in
            Disconnected(try await body())
        }.take()
    }
}
