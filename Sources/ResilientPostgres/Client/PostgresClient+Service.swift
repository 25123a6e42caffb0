public import ServiceLifecycle

extension PostgresClient: Service {
    /// Opens the ``Configuration/minimumIdleConnections`` at once, then waits until the task is cancelled or a
    /// graceful shutdown is requested, and shuts the client down.
    ///
    /// Running it is optional, and adds only that: a start that does not wait for the first operation, and a
    /// shutdown in step with the rest of the app. The pool's housekeeping (closing sessions idle past
    /// ``Configuration/idleTimeout`` or open past ``Configuration/maxLifetime``, keeping the minimum idle sessions)
    /// runs either way. In a `ServiceGroup`, operations still running when shutdown begins finish; new ones fail.
    public func run() async throws {
        await pool.openMinimumIdle()
        pool.scheduleHousekeeping()
        // Ends when a graceful shutdown is requested, or with CancellationError when the task is cancelled.
        try? await gracefulShutdown()
        await shutdown()
    }
}
