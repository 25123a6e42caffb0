import PostgresPolicy
import PostgresTransport

extension PoolStateMachine {
    /// An operation gives a session back. One that is not `reusable` (broken, inside a transaction block, or
    /// refused by the operation), from an old epoch, or past its lifetime is closed. With `resetting`, what app
    /// code left on it is undone first, by the operation's `deadline` (at most the liveness check timeout); one
    /// with no time left for that is closed.
    package mutating func release(
        _ id: SessionID,
        reusable: Bool,
        resetting: Bool,
        deadline: Instant?,
        now: Instant
    ) -> (Return, [Action]) {
        precondition(sessions.isLeased(id), "only a lent session is given back, once")
        var actions: [Action] = []
        guard reusable, isFit(id, now: now) else {
            if !reusable { noteLoss() }
            startClosing(id, &actions)
            return (.done, actions)
        }
        if resetting {
            var resetDeadline = now.advanced(by: options.livenessCheckTimeout)
            if let deadline { resetDeadline = min(resetDeadline, deadline) }
            guard now < resetDeadline else {
                startClosing(id, &actions)
                return (.done, actions)
            }
            sessions.set(.resetting, of: id)
            return (.reset(deadline: resetDeadline), [])
        }
        giveBack(id, now: now, &actions)
        return (.done, actions)
    }

    /// The reset of a session given back ended: it is lent or kept idle if it succeeded and the session is still
    /// fit (the pool may have shut down, or moved to a new epoch, meanwhile), closed otherwise.
    package mutating func resetFinished(_ id: SessionID, succeeded: Bool, now: Instant) -> [Action] {
        precondition(sessions[id]?.state == .resetting, "only a session being reset finishes a reset")
        var actions: [Action] = []
        if succeeded {
            giveBack(id, now: now, &actions)
        } else {
            startClosing(id, &actions)
        }
        return actions
    }

    /// A session was closed: its slot frees.
    package mutating func closed(_ id: SessionID, now: Instant) -> [Action] {
        precondition(sessions[id]?.state == .closing, "only a session being closed is closed")
        sessions.remove(id)
        var actions: [Action] = []
        slotFreed(now: now, &actions)
        updateOperationsTimer(&actions)
        return actions
    }

    // MARK: - Internals

    /// Gives a fit session to the first waiter, or keeps it idle; closes it if it is not fit, or if the server
    /// is short of slots and no one here waits for it (it is worth more to another client).
    mutating func giveBack(_ id: SessionID, now: Instant, _ actions: inout [Action]) {
        guard isFit(id, now: now) else {
            startClosing(id, &actions)
            return
        }
        if !waiters.isEmpty {
            let waiter = waiters.removeFirst()
            sessions.set(.leased, of: id)
            actions.append(.resume(waiter.id, .lease(Lease(id: id, connection: sessions.connection(of: id)))))
            updateOperationsTimer(&actions)
        } else if isUnderSlotPressure(now: now), idle.count >= options.minimumIdleConnections {
            startClosing(id, &actions)
        } else {
            sessions.set(.idle(since: now), of: id)
            idle.append(id)
            scheduleHousekeeping(now: now, expiring: expiry(of: id), &actions)
        }
    }

    /// A slot freed: the first waiter opens a session in it. During an outage only the prober opens sessions, and
    /// while as many connects as the pool allows at once are under way the waiter waits for one of them to end, so
    /// the slot just becomes free.
    mutating func slotFreed(now: Instant, _ actions: inout [Action]) {
        openCount -= 1
        handOutFreeSlots(now: now, &actions)
    }

    /// Lets waiters open sessions in the free slots, as many at once as the pool allows (after an outage ends, a
    /// connect ended or a slot freed). Nothing during an outage, when only the prober connects.
    ///
    /// A waiter whose deadline passed is failed here rather than given a slot: the operations' timer that fails it
    /// may run late on a loaded machine, and a connect begun past its deadline fails at once, as if the server
    /// were unreachable, which would start an outage against a healthy server.
    mutating func handOutFreeSlots(now: Instant, _ actions: inout [Action]) {
        while let waiter = waiters.first, mayStartConnect(now: now) {
            waiters.removeFirst()
            guard now < waiter.deadline else {
                actions.append(.resume(waiter.id, .fail(timedOut)))
                continue
            }
            reserveSlot()
            actions.append(.resume(waiter.id, .connect))
        }
    }
}
