/// The events a listener has received and its consumer has not yet taken, with the policy for a consumer that
/// falls behind.
///
/// Holds up to `capacity` notifications. When it is full, newer notifications are dropped and counted, never
/// silently: once the consumer has taken half of them, a ``NotificationGap/Reason/consumerTooSlow`` gap takes their
/// place, before anything that arrives after them. The server is never made to wait (its notification queue is
/// shared by the whole cluster, and a full one fails every `NOTIFY`).
///
/// The listener's own events (listening, gaps, retries) are never dropped, and take no room from notifications;
/// they stay few, as they merge: a retry replaces the retry before it, listening again removes the retry before it,
/// and a gap right after a gap widens it.
package struct NotificationBuffer {
    package let capacity: Int
    private var events: [ListenEvent] = []
    /// Where ``events`` starts: taken events are removed in batches, not one at a time.
    private var head = 0
    /// The notifications waiting for the consumer.
    package private(set) var notificationCount = 0
    /// The notifications dropped since the buffer was last full, and when the first one was.
    private var dropped: (count: Int, since: ContinuousClock.Instant)?

    package init(capacity: Int) {
        precondition(capacity >= 1, "a buffer holds at least one notification")
        self.capacity = capacity
    }

    /// The notifications dropped since the buffer was last full, whose gap is not placed yet.
    package var droppedCount: Int { dropped?.count ?? 0 }

    /// Adds an event the consumer will take after the earlier ones; a notification is dropped when the buffer
    /// is full.
    package mutating func append(_ event: ListenEvent, now: ContinuousClock.Instant) {
        switch event {
        case .notification:
            // Once full, it accepts again only when the consumer has taken half, so that a consumer a little slower
            // than the senders sees a few wide gaps rather than one every other notification.
            if notificationCount >= capacity || (dropped != nil && notificationCount > capacity / 2) {
                dropped = ((dropped?.count ?? 0) + 1, dropped?.since ?? now)
                return
            }
            placeDropped(now: now)
            notificationCount += 1
            events.append(event)
        case .reconnecting:
            placeDropped(now: now)
            if case .reconnecting? = last { events.removeLast() }
            events.append(event)
        case .listening:
            placeDropped(now: now)
            if case .reconnecting? = last { events.removeLast() }
            events.append(event)
        case .gap(let gap):
            placeDropped(now: now)
            if case .reconnecting? = last { events.removeLast() }
            if case .gap(let earlier)? = last {
                events.removeLast()
                events.append(.gap(Self.widen(earlier, by: gap)))
            } else {
                events.append(event)
            }
        }
    }

    /// The oldest event, or nil when there is none; a gap for dropped notifications comes once the events before
    /// it are taken.
    package mutating func take(now: ContinuousClock.Instant) -> ListenEvent? {
        if head == events.count {
            placeDropped(now: now)
            if head == events.count { return nil }
        }
        let event = events[head]
        head += 1
        if case .notification = event { notificationCount -= 1 }
        if head == events.count {
            events.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024, head * 2 >= events.count {
            events.removeFirst(head)
            head = 0
        }
        return event
    }

    private var last: ListenEvent? { head < events.count ? events.last : nil }

    /// Puts the gap for the dropped notifications in their place.
    private mutating func placeDropped(now: ContinuousClock.Instant) {
        guard let dropped else { return }
        self.dropped = nil
        events.append(.gap(NotificationGap(
            reason: .consumerTooSlow, noticedAt: dropped.since, resumedAt: now, droppedCount: dropped.count
        )))
    }

    /// One gap for two in a row: from the first's start to the second's end, with the first's reason (the cause;
    /// what followed was during it), unless that was only the consumer's delay, and every dropped notification
    /// counted.
    static func widen(_ first: NotificationGap, by second: NotificationGap) -> NotificationGap {
        var widened = first
        if first.reason == .consumerTooSlow { widened.reason = second.reason }
        widened.resumedAt = max(first.resumedAt, second.resumedAt)
        widened.droppedCount += second.droppedCount
        widened.failure = first.failure ?? second.failure
        return widened
    }
}
