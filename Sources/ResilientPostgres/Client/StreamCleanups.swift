import Synchronization

/// The clean-ups under way of streams their consumers stopped early (a statement cancelled and drained, or its
/// session closed, then the session given back), so that ``PostgresClient/shutdown()`` waits for them: nothing of a
/// stream outlives the client's shutdown.
final class StreamCleanups: Sendable {
    private struct State {
        var running: [Int: Task<Void, Never>] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    /// Runs `cleanup` in a task of its own, on `executor`, tracked until it ends.
    func run(on executor: (any TaskExecutor)?, _ cleanup: @escaping @Sendable () async -> Void) {
        state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            // Made under the lock: the task's own removal, which takes the lock, comes after its registration.
            state.running[id] = Task(executorPreference: executor) { [self] in
                await cleanup()
                _ = self.state.withLock { $0.running.removeValue(forKey: id) }
            }
        }
    }

    /// Returns once every clean-up started before it, or while it waits, has ended.
    func waitForAll() async {
        while let task = state.withLock({ $0.running.values.first }) {
            await task.value
        }
    }
}
