public import ServiceLifecycle

extension PostgresClient: Service {
    /// Runs the client's housekeeping (closing sessions idle past ``Configuration/idleTimeout``, keeping
    /// ``Configuration/minimumIdleConnections`` open) until the task is cancelled or a graceful shutdown is
    /// requested, then shuts the client down.
    ///
    /// Running it is optional: a client works without it, and then only closes idle sessions when shut down. In a
    /// `ServiceGroup`, operations still running when shutdown begins finish; new ones fail.
    public func run() async throws {
        let interval = min(.seconds(5), max(.seconds(1), configuration.idleTimeout / 4))
        await cancelWhenGracefulShutdown {
            await self.pool.openMinimumIdle()
            while !Task.isCancelled {
                do {
                    try await self.clock.sleep(for: interval)
                } catch {
                    break
                }
                await self.pool.closeIdleSessions()
                await self.pool.openMinimumIdle()
            }
        }
        await shutdown()
    }
}
