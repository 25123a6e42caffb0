import Synchronization

/// The clean-ups under way of streams their consumers stopped early (a statement cancelled and drained, or its
/// session closed, then the session given back), so that ``PostgresClient/shutdown()`` ends them and waits for
/// them: no stream stopped before or during the shutdown outlives it.
///
/// Once the shutdown has begun, a clean-up closes its session instead of stopping the statement, and a clean-up
/// still waiting for its statement to stop has its session closed, so that the shutdown never waits on a server.
final class StreamCleanups: Sendable {
    private struct Cleanup {
        let task: Task<Void, Never>
        let connection: any DatabaseConnection
    }

    private struct State {
        var running: [Int: Cleanup] = [:]
        var nextID = 0
        var isClosing = false
    }

    private let state = Mutex(State())

    /// Stops the statement `lease` streams (or, once the shutdown has begun, closes its session), then gives the
    /// session back to `pool`, in a task of its own on the session's thread, tracked until it ends.
    func stop(_ lease: ConnectionPool.Lease, pool: ConnectionPool) {
        let connection = lease.connection
        state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            let isClosing = state.isClosing
            // Made under the lock: the task's own removal, which takes the lock, comes after its registration.
            let task = Task(executorPreference: connection.taskExecutor) { [self] in
                if isClosing {
                    await connection.close()
                } else {
                    await connection.stopStreaming()
                }
                await pool.release(lease, reuse: !isClosing)
                _ = self.state.withLock { $0.running.removeValue(forKey: id) }
            }
            state.running[id] = Cleanup(task: task, connection: connection)
        }
    }

    /// Closes the sessions of the clean-ups under way, makes later clean-ups close theirs, and returns once every
    /// one has ended.
    func shutdown() async {
        let connections = state.withLock { state in
            state.isClosing = true
            return state.running.values.map(\.connection)
        }
        for connection in connections {
            await connection.close()
        }
        while let task = state.withLock({ $0.running.values.first?.task }) {
            await task.value
        }
    }
}
