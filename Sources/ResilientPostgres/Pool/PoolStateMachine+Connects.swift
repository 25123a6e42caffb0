import PostgresTransport

extension PoolStateMachine {
    /// A connect for `purpose` opened `connection` (on `host`).
    ///
    /// An operation's session is its own; the prober's ends the outage and goes to the first waiter, and the other
    /// waiters may open sessions in the free slots; a minimum idle one is lent or kept idle. Opened during a
    /// shutdown, it is closed before anything runs on it. The step is the operation's, nil for other purposes.
    package mutating func connected(
        _ connection: Connection,
        host: String?,
        for purpose: ConnectPurpose,
        now: Instant
    ) -> (step: Step?, actions: [Action]) {
        connecting -= 1
        if purpose == .minimumIdle { openingIdle -= 1 }
        if let host { resolvedHostNames.insert(host.lowercased()) }
        let endOfLife = now.advanced(by: drawLifetime())
        let id = sessions.add(connection, value: makeID(), epoch: epoch, endOfLife: endOfLife)
        var actions: [Action] = []
        guard !isShutDown else {
            startClosing(id, &actions)
            return (purpose == .operation ? .fail(ConnectionPool.ShutDown()) : nil, actions)
        }
        switch purpose {
        case .operation:
            // An operation waiting for a connect to end (as many as allowed at once were under way) opens its own.
            if !waiters.isEmpty, mayConnect {
                handOutFreeSlots(now: now, &actions)
                updateOperationsTimer(&actions)
            }
            return (.lease(Lease(id: id, connection: connection)), actions)
        case .prober:
            outage = nil
            giveBack(id, now: now, &actions)
            handOutFreeSlots(now: now, &actions)
        case .minimumIdle:
            giveBack(id, now: now, &actions)
            handOutFreeSlots(now: now, &actions)
        }
        updateOperationsTimer(&actions)
        return (nil, actions)
    }

    /// A connect for `purpose` failed: its slot frees. The failure is judged by the host names that resolved
    /// before; for an operation, it is the step's error.
    ///
    /// A transient failure of an operation's connect (or a minimum idle one's) starts an outage. A transient
    /// failure of the prober's keeps it going; any other fails every waiting operation, as retrying cannot fix it.
    package mutating func connectFailed(
        _ error: any Error,
        for purpose: ConnectPurpose,
        now: Instant
    ) -> (step: Step?, actions: [Action]) {
        connecting -= 1
        if purpose == .minimumIdle { openingIdle -= 1 }
        var actions: [Action] = []
        var error = error
        if let failure = error as? TransportError {
            let judged = judgingHostNames(of: failure)
            error = judged
            noteSlotRefusal(judged, now: now)
            if purpose == .prober {
                proberFailed(judged, now: now, &actions)
            } else {
                // The outage first: a slot freed during one goes to no waiter, who would only be refused too.
                beginOutageIfTransient(judged, now: now, &actions)
            }
        } else if purpose == .prober {
            proberFailed(error, now: now, &actions)
        }
        slotFreed(now: now, &actions)
        updateOperationsTimer(&actions)
        return (purpose == .operation ? .fail(error) : nil, actions)
    }

    /// Whether an operation may open a session now: no outage (only the prober connects then), a free slot, and
    /// fewer connects under way than the pool allows at once.
    package var mayConnect: Bool {
        outage == nil && !isShutDown && openCount < options.maxConnections
            && connecting < options.maxConcurrentConnects
    }

    /// Takes a slot for a connect about to start.
    mutating func reserveSlot() {
        openCount += 1
        connecting += 1
    }
}
