import PostgresTransport
import ResilientPostgres
import Synchronization

/// The notifications of a ``ScriptedDatabase``: which sessions listen on which channels, what each has yet to
/// receive, and the sessions lost while they waited.
final class NotificationHub: Sendable {
    private struct Listener {
        var channels: Set<String> = []
        var pending: [PostgresNotification] = []
        /// How the session was lost, for its next wait.
        var loss: TransportError?
        /// The session's wait, while it waits.
        var waiter: (id: Int, continuation: CheckedContinuation<Void, Never>)?
    }

    private struct State {
        var listeners: [Int: Listener] = [:]
        var nextWaiterID = 0
        /// What `pg_postmaster_start_time()` answers; a new one after each outage, as after a restart.
        var serverStarts = 1
    }

    private let state = Mutex(State())

    /// Registers `LISTEN channel` by session `number`.
    func listen(_ number: Int, on channel: String) {
        state.withLock { state in
            _ = state.listeners[number, default: Listener()].channels.insert(channel)
        }
    }

    /// Delivers a notification to every session in `open` that listens on its channel.
    func deliver(_ notification: PostgresNotification, toOpen open: Set<Int>) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            var woken: [CheckedContinuation<Void, Never>] = []
            for number in Array(state.listeners.keys) {
                guard open.contains(number) else {
                    state.listeners[number] = nil
                    continue
                }
                guard state.listeners[number]!.channels.contains(notification.channel) else { continue }
                state.listeners[number]!.pending.append(notification)
                if let waiter = state.listeners[number]!.waiter.take() { woken.append(waiter.continuation) }
            }
            return woken
        }
        woken.forEach { $0.resume() }
    }

    /// Ends the waits of every listening session with `error`, now or at their next wait; with `restarting`, the
    /// server's start time changes too.
    func loseListeners(with error: (Int) -> TransportError?, restarting: Bool) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            if restarting { state.serverStarts += 1 }
            var woken: [CheckedContinuation<Void, Never>] = []
            for number in Array(state.listeners.keys) {
                guard let loss = error(number) else { continue }
                state.listeners[number]!.loss = loss
                if let waiter = state.listeners[number]!.waiter.take() { woken.append(waiter.continuation) }
            }
            return woken
        }
        woken.forEach { $0.resume() }
    }

    /// The server's start time, as `pg_postmaster_start_time()::text` answers it.
    var serverStartTime: String {
        let starts = state.withLock { $0.serverStarts }
        return "2000-01-01 00:00:\(starts)+00"
    }

    /// Waits until session `number` has notifications, or is lost, or `deadline` passes on `clock`.
    func receive(
        _ number: Int,
        until deadline: ContinuousClock.Instant?,
        on clock: ManualClock,
        host: String?,
        port: Int?
    ) async throws -> [PostgresNotification] {
        while true {
            let taken = state.withLock { state -> Result<[PostgresNotification], TransportError> in
                var listener = state.listeners[number, default: Listener()]
                defer { state.listeners[number] = listener }
                if let loss = listener.loss {
                    listener.loss = nil
                    return .failure(loss)
                }
                defer { listener.pending.removeAll() }
                return .success(listener.pending)
            }
            let received = try taken.get()
            if !received.isEmpty { return received }
            if Task.isCancelled {
                throw TransportError(code: .cancelled, message: "cancelled while waiting for notifications",
                                     host: host, port: port, phase: .notSent, isConnectionUsable: true)
            }
            if let deadline, clock.now >= deadline { return [] }
            await waitForChange(of: number, until: deadline, on: clock)
        }
    }

    /// Returns when session `number` is sent something, when `deadline` passes, or when the task is cancelled.
    private func waitForChange(of number: Int, until deadline: ContinuousClock.Instant?, on clock: ManualClock) async {
        let id = state.withLock { state in
            defer { state.nextWaiterID += 1 }
            return state.nextWaiterID
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let parks = state.withLock { state -> Bool in
                            let listener = state.listeners[number, default: Listener()]
                            guard listener.pending.isEmpty, listener.loss == nil, !Task.isCancelled else {
                                return false
                            }
                            state.listeners[number] = listener
                            state.listeners[number]!.waiter = (id, continuation)
                            return true
                        }
                        if !parks { continuation.resume() }
                    }
                } onCancel: {
                    let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                        guard state.listeners[number]?.waiter?.id == id else { return nil }
                        return state.listeners[number]!.waiter.take()?.continuation
                    }
                    waiter?.resume()
                }
            }
            // Ends the wait at the deadline, or never; cancelled below once the other ends.
            group.addTask { _ = await FaultWait.wait(nil, deadline: deadline, on: clock) }
            await group.next()
            group.cancelAll()
        }
    }
}
