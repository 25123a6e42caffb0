import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

/// The buffer between a listener and its consumer: order, the drop policy, and what merges.
@Suite("Notification buffer", .capturingLogs)
struct NotificationBufferTests {
    let start = ContinuousClock.now

    func at(_ seconds: Int) -> ContinuousClock.Instant { start.advanced(by: .seconds(seconds)) }

    static func notification(_ number: Int) -> ListenEvent {
        .notification(PostgresNotification(channel: "c", payload: "\(number)", backendPID: 7))
    }

    /// The events as short strings: `n3` for notification 3, `gap(consumer too slow, 4)`, `listening`, `retry 2`.
    static func describe(_ event: ListenEvent) -> String {
        switch event {
        case .listening: "listening"
        case .notification(let notification): "n\(notification.payload)"
        case .gap(let gap): "gap(\(gap.reason), \(gap.droppedCount))"
        case .reconnecting(let retry): "retry \(retry.failedAttempts)"
        }
    }

    static func drain(_ buffer: inout NotificationBuffer, at now: ContinuousClock.Instant) -> [String] {
        var taken: [String] = []
        while let event = buffer.take(now: now) { taken.append(describe(event)) }
        return taken
    }

    static func retry(_ attempts: Int) -> ListenEvent {
        .reconnecting(ListenerRetry(failedAttempts: attempts, since: .now, lastFailure: nil, nextAttemptIn: .zero))
    }

    @Test func eventsComeOutInOrder() {
        var buffer = NotificationBuffer(capacity: 100)
        buffer.append(.listening, now: at(0))
        for number in 1...50 { buffer.append(Self.notification(number), now: at(0)) }
        #expect(Self.drain(&buffer, at: at(1)) == ["listening"] + (1...50).map { "n\($0)" })
        #expect(buffer.take(now: at(2)) == nil)
        #expect(buffer.notificationCount == 0 && buffer.droppedCount == 0)
    }

    @Test func whenFullNewerNotificationsAreDroppedAndAGapTakesTheirPlace() throws {
        var buffer = NotificationBuffer(capacity: 4)
        for number in 1...10 { buffer.append(Self.notification(number), now: at(number)) }
        #expect(buffer.notificationCount == 4 && buffer.droppedCount == 6)
        // n5 ... n10 dropped. The consumer takes one: still more than half full, so n11 is dropped too.
        #expect(buffer.take(now: at(20)).map(Self.describe) == "n1")
        buffer.append(Self.notification(11), now: at(21))
        // One more taken: at half, n12 is accepted, after a gap for the seven dropped.
        #expect(buffer.take(now: at(22)).map(Self.describe) == "n2")
        buffer.append(Self.notification(12), now: at(23))
        var events: [ListenEvent] = []
        while let event = buffer.take(now: at(24)) { events.append(event) }
        #expect(events.map(Self.describe) == ["n3", "n4", "gap(consumer too slow, 7)", "n12"])
        guard case .gap(let gap) = events[2] else { return }
        #expect(gap.noticedAt == at(5))
        #expect(gap.resumedAt == at(23))
    }

    @Test func aConsumerThatCatchesUpGetsTheGapWithoutWaitingForAnotherNotification() {
        var buffer = NotificationBuffer(capacity: 2)
        for number in 1...3 { buffer.append(Self.notification(number), now: at(0)) }
        #expect(Self.drain(&buffer, at: at(1)) == ["n1", "n2", "gap(consumer too slow, 1)"])
        #expect(buffer.take(now: at(2)) == nil)
    }

    @Test func theListenersOwnEventsAreNeverDroppedAndMerge() {
        var buffer = NotificationBuffer(capacity: 1)
        buffer.append(Self.notification(1), now: at(0))
        buffer.append(Self.notification(2), now: at(0))  // dropped
        buffer.append(Self.retry(1), now: at(1))
        buffer.append(Self.retry(2), now: at(2))  // replaces retry 1
        let lost = NotificationGap(reason: .serverRestart, noticedAt: at(1), resumedAt: at(3))
        buffer.append(.gap(lost), now: at(3))  // removes retry 2, and widens the drop's gap
        #expect(Self.drain(&buffer, at: at(4)) == ["n1", "gap(server restart, 1)"])

        buffer.append(Self.retry(1), now: at(5))
        buffer.append(.gap(lost), now: at(6))
        buffer.append(Self.retry(1), now: at(7))
        buffer.append(.gap(NotificationGap(reason: .failover, noticedAt: at(7), resumedAt: at(8))), now: at(8))
        var events: [ListenEvent] = []
        while let event = buffer.take(now: at(9)) { events.append(event) }
        #expect(events.map(Self.describe) == ["gap(server restart, 0)"])
        guard case .gap(let gap) = events.first else { return }
        #expect(gap.noticedAt == at(1))
        #expect(gap.resumedAt == at(8))
    }
}
