import PostgresPolicy
import PostgresTransport

extension PoolStateMachine {
    /// The housekeeping timer, which closes sessions idle or open for too long and keeps the minimum idle ones; set
    /// while there is something for it to do, whether or not the client runs as a service.
    package enum Housekeeping: Equatable {
        /// Nothing to do until a session sits idle (or an operation asks, with minimum idle sessions).
        case stopped
        case armed(Timer)
        /// The driver closes what was due and opens minimum idle sessions, then reports
        /// ``housekeepingFinished(now:)``.
        case running
    }

    /// The longest the housekeeping sleeps while it keeps minimum idle sessions.
    static var housekeepingInterval: Duration { .seconds(5) }

    /// How long after the server refused a session for want of slots the pool keeps no idle sessions beyond the
    /// minimum.
    static var slotPressureWindow: Duration { .seconds(30) }

    /// Sets the housekeeping timer if there is something for it to do: for the next idle session due to close (or,
    /// with minimum idle sessions, at most ``housekeepingInterval`` away). Set already, it is set again only for a
    /// session `expiring` before it goes off.
    mutating func scheduleHousekeeping(now: Instant, expiring: Instant? = nil, _ actions: inout [Action]) {
        guard !isShutDown else { return }
        let due: Instant
        switch housekeeping {
        case .running:
            return
        case .armed(let timer):
            guard let expiring, expiring < timer.deadline else { return }
            due = expiring
        case .stopped:
            var next: Instant?
            for id in idle {
                let end = expiry(of: id)
                next = min(next ?? end, end)
            }
            if options.minimumIdleConnections > 0 {
                let interval = now.advanced(by: Self.housekeepingInterval)
                next = min(next ?? interval, interval)
            }
            guard let next else { return }
            due = next
        }
        let timer = Timer(kind: .housekeeping, id: makeID(), deadline: due)
        housekeeping = .armed(timer)
        actions.append(.schedule(timer))
    }

    /// Sets the housekeeping timer once again, if there is still something for it to do.
    package mutating func housekeepingFinished(now: Instant) -> [Action] {
        guard housekeeping == .running else { return [] }
        housekeeping = .stopped
        var actions: [Action] = []
        scheduleHousekeeping(now: now, &actions)
        return actions
    }

    /// Opens a slot for a minimum idle session, if the pool is short of them, no one waits, no outage is under way
    /// and a slot is free; returns the connect's deadline. Report with ``connected(_:host:for:now:)`` or
    /// ``connectFailed(_:for:now:)``, which starts an outage if the failure is transient.
    package mutating func reserveMinimumIdleSlot(now: Instant) -> Instant? {
        guard idle.count + openingIdle < options.minimumIdleConnections, waiters.isEmpty, mayStartConnect(now: now)
        else { return nil }
        reserveSlot()
        openingIdle += 1
        return now.advanced(by: options.connectTimeout)
    }

    /// Whether the server refused this pool a session for want of slots (53300) lately.
    ///
    /// Always inlined: called out of line from a mutating method (``giveBack(_:now:_:)``, for a fit session that no
    /// one waits for, the usual return), it cost a copy of the whole machine, 864 bytes, to pass it.
    @inline(__always)
    func isUnderSlotPressure(now: Instant) -> Bool {
        guard let lastSlotRefusal else { return false }
        return lastSlotRefusal.duration(to: now) < Self.slotPressureWindow
    }

    /// Remembers when the server refused a session for want of slots.
    mutating func noteSlotRefusal(_ failure: TransportError, now: Instant) {
        if FailureFacts(failure, inHotStandby: nil).errorClass == .resourceLimit { lastSlotRefusal = now }
    }

    /// When an idle session is to be closed: at its idle timeout or at the end of its lifetime, whichever is first.
    func expiry(of id: SessionID) -> Instant {
        let endOfLife = sessions.endOfLife(of: id)
        guard case .idle(let since) = sessions.state(of: id) else { return endOfLife }
        return min(since.advanced(by: options.idleTimeout), endOfLife)
    }

    /// The lifetime of a session opened now: the maximum, less a random part of the spread (see
    /// ``PoolOptions/lifetimeSpread``), drawn from the machine's own generator so that a seed reproduces it.
    mutating func drawLifetime() -> Duration {
        guard options.lifetimeSpread > .zero else { return options.maxLifetime }
        return options.maxLifetime - options.lifetimeSpread * Double.random(in: 0...1, using: &lifetimeDraws)
    }

    /// The housekeeping timer went off: closes the idle sessions that sat longer than the idle timeout or are past
    /// their lifetime, and leaves the driver to open minimum idle sessions. Nil when the timer was replaced since.
    mutating func housekeepingFired(_ timer: Timer, now: Instant) -> [Action]? {
        guard housekeeping == .armed(timer) else { return nil }
        housekeeping = .running
        var actions: [Action] = []
        let expired = idle.filter { now >= expiry(of: $0) }
        idle.removeAll { expired.contains($0) }
        for id in expired { startClosing(id, &actions) }
        return actions
    }
}
