import PostgresPolicy
import PostgresTransport

extension ConnectionPool {
    /// Closes idle sessions that sat longer than the idle timeout, or are past their lifetime.
    func closeIdleSessions() async {
        let now = clock.now
        let isExpired = { (session: IdleSession) in now >= self.expiry(of: session) }
        let expired = idle.filter(isExpired)
        guard !expired.isEmpty else { return }
        idle.removeAll(where: isExpired)
        for session in expired { await discard(session.lease) }
        reportSize()
    }

    /// When an idle session is to be closed: at its idle timeout or at the end of its lifetime, whichever is first.
    private func expiry(of session: IdleSession) -> ContinuousClock.Instant {
        min(session.idleSince.advanced(by: options.idleTimeout), session.lease.openedAt.advanced(by: options.maxLifetime))
    }

    /// Starts the housekeeping timer if there is something for it to do and it is not running.
    ///
    /// It runs whether or not the client runs as a service: it sleeps until the next idle session is due to close
    /// (or, with minimum idle sessions, for at most ``housekeepingInterval``), closes what is due, opens sessions up
    /// to the minimum, and ends when no session is idle and no minimum is set.
    func scheduleHousekeeping() {
        guard housekeeping == nil, !isShutDown, !idle.isEmpty || options.minimumIdleConnections > 0 else { return }
        housekeeping = Task { [weak self] in await self?.keepHouse() }
    }

    /// The longest the housekeeping sleeps while it keeps minimum idle sessions.
    static let housekeepingInterval = Duration.seconds(5)

    private func keepHouse() async {
        while !isShutDown {
            var due = idle.map(expiry(of:)).min()
            if options.minimumIdleConnections > 0 {
                let interval = clock.now.advanced(by: Self.housekeepingInterval)
                due = due.map { min($0, interval) } ?? interval
            }
            guard let due else { break }
            do {
                try await clock.sleepForHousekeeping(until: due)
            } catch {
                break  // cancelled: the pool shut down
            }
            await closeIdleSessions()
            await openMinimumIdle()
        }
        housekeeping = nil
    }

    /// Opens sessions until the minimum number sit idle (or the pool is full); stops at the first failure, which
    /// starts an outage if it is transient.
    func openMinimumIdle() async {
        while !isShutDown, outage == nil, idle.count < options.minimumIdleConnections, waiters.isEmpty,
            reserveSlot()
        {
            do {
                let lease = try await open(deadline: clock.now.advanced(by: options.connectTimeout))
                hand(lease, idleSince: clock.now)
            } catch {
                return
            }
        }
    }

    /// How long after the server refused a session for want of slots the pool keeps no idle sessions beyond the
    /// minimum.
    static let slotPressureWindow = Duration.seconds(30)

    /// Whether the server refused this pool a session for want of slots (53300) lately.
    var isUnderSlotPressure: Bool {
        guard let lastSlotRefusal else { return false }
        return lastSlotRefusal.duration(to: clock.now) < Self.slotPressureWindow
    }

    /// Remembers when the server refused a session for want of slots.
    func noteSlotRefusal(_ failure: TransportError) {
        if FailureFacts(failure, inHotStandby: nil).errorClass == .resourceLimit { lastSlotRefusal = clock.now }
    }
}
