import Foundation
import ResilientPostgres
import Synchronization
import Testing

/// A listener's events as a consumer task records them, for a test to wait on and inspect.
final class ListenerRecording: Sendable {
    /// What was recorded so far.
    struct Snapshot {
        var events: [ListenEvent] = []

        var hasListened: Bool { events.contains { if case .listening = $0 { true } else { false } } }
        /// The payloads of the notifications, as numbers, in order.
        var numbers: [Int] { events.compactMap { if case .notification(let n) = $0 { Int(n.payload) } else { nil } } }
        /// The payloads of the notifications after the first gap.
        var numbersAfterGap: [Int] {
            guard let gap = events.firstIndex(where: { if case .gap = $0 { true } else { false } }) else { return [] }
            return Snapshot(events: Array(events[gap...])).numbers
        }
        var gaps: [NotificationGap] { events.compactMap { if case .gap(let gap) = $0 { gap } else { nil } } }
        var retries: Int { events.count { if case .reconnecting = $0 { true } else { false } } }
        var failure: (any Error)?
    }

    private let state = Mutex(Snapshot())
    private let consumer = Mutex<Task<Void, Never>?>(nil)

    init(_ events: PostgresNotifications) {
        let task = Task { [self] in
            do {
                for try await event in events { state.withLock { $0.events.append(event) } }
            } catch {
                state.withLock { $0.failure = error }
            }
        }
        consumer.withLock { $0 = task }
    }

    var snapshot: Snapshot { state.withLock { $0 } }

    /// Ends the consumer's iteration, which closes the listener's session.
    func stop() {
        consumer.withLock { $0 }?.cancel()
    }

    /// Waits until `condition` holds of what was recorded: at most 60 s (a loaded machine restarts a server
    /// slowly), failing with what was seen.
    func wait(_ what: String, until condition: (Snapshot) -> Bool) async throws {
        let givingUp = ContinuousClock.now.advanced(by: .seconds(60))
        while !condition(snapshot) {
            if let failure = snapshot.failure { throw failure }
            guard ContinuousClock.now < givingUp else {
                let seen = snapshot
                let gaps = seen.gaps.map(\.reason)
                Issue.record("waited 60 s for \(what); saw \(seen.numbers.count) notifications, gaps \(gaps)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// Sends numbered notifications one after another, until stopped, recording those that committed and when each
/// one's sending began.
final class NotificationStream: Sendable {
    struct Sent: Sendable {
        var number: Int
        var began: ContinuousClock.Instant
    }

    private let client: PostgresClient
    private let channel: String
    private let sent = Mutex<[Sent]>([])
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(client: PostgresClient, channel: String) {
        self.client = client
        self.channel = channel
    }

    func start() {
        let started = Task { [self] in
            var number = 0
            while !Task.isCancelled {
                number += 1
                let began = ContinuousClock.now
                do {
                    try await client.notify(channel, payload: "\(number)")
                    sent.withLock { $0.append(Sent(number: number, began: began)) }
                } catch {
                    // Lost in the restart, or cancelled: not counted as sent.
                }
                try? await Task.sleep(for: .milliseconds(2))
            }
        }
        task.withLock { $0 = started }
    }

    /// Stops sending, and returns what was sent.
    func stop() async -> [Sent] {
        let running = task.withLock { $0.take() }
        running?.cancel()
        await running?.value
        return sent.withLock { $0 }
    }
}
