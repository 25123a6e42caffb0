import Synchronization

/// The listeners of a client that are running, so that its shutdown stops them and waits for their sessions to close.
final class ListenerRegistry: Sendable {
    private struct State {
        var listeners: [ObjectIdentifier: NotificationListener] = [:]
        var isShutDown = false
    }

    private let state = Mutex(State())

    /// Registers a listener that starts; false once the client was shut down.
    func add(_ listener: NotificationListener) -> Bool {
        state.withLock { state in
            guard !state.isShutDown else { return false }
            state.listeners[ObjectIdentifier(listener)] = listener
            return true
        }
    }

    /// Forgets a listener that ended.
    func remove(_ listener: NotificationListener) {
        _ = state.withLock { $0.listeners.removeValue(forKey: ObjectIdentifier(listener)) }
    }

    /// Stops every listener, refuses new ones, and returns once every listener's session is closed.
    func shutdown() async {
        let listeners = state.withLock { state in
            state.isShutDown = true
            return Array(state.listeners.values)
        }
        for listener in listeners { await listener.stopAndWait() }
    }
}
