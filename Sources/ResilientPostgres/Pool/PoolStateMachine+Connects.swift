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
        // The server answers: the wave this connect belonged to (or the outage the prober ended) is over.
        connectJitterDue = false
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

    /// Whether an operation may open a session now: no outage (only the prober connects then), no wave's hold
    /// running, a free slot, and fewer connects under way than the pool allows at once.
    package var mayConnect: Bool {
        outage == nil && !isShutDown && connectsHeldUntil == nil && openCount < options.maxConnections
            && connecting < options.maxConcurrentConnects
    }

    /// Whether a connect may start now: a hold whose instant has come ends first (the housekeeping, which has no
    /// waiter's timer to end it, opens minimum idle sessions through here), and a wave that starts holds the connects
    /// (see ``holdConnectsIfDue(now:)``).
    mutating func mayStartConnect(now: Instant) -> Bool {
        endHoldIfDue(now: now)
        holdConnectsIfDue(now: now)
        return mayConnect
    }

    /// Starts a wave's hold if one is due: the pool's first connect, or its first since it lost sessions (one given
    /// back broken, a failed liveness check, a new epoch after a failover), waits a delay drawn at random below
    /// `connectJitter`, so that a fleet of instances started together, or cut off together by a restart, spread
    /// their connects over that window instead of meeting the server in the same instant. The connects after the
    /// first of a wave follow as the connect limit allows; a wave ends when a connect succeeds. During an outage
    /// the prober's own jittered backoff spreads the connects instead, and its success needs no further hold.
    ///
    /// Off by default (zero): an app on its own would only see its first query after a cold start, or after a
    /// restart, wait for nothing.
    mutating func holdConnectsIfDue(now: Instant) {
        guard connectJitterDue, options.connectJitter > .zero, outage == nil, !isShutDown,
              connectsHeldUntil == nil, openCount < options.maxConnections
        else { return }
        connectJitterDue = false
        let fraction = Double(connectJitterDraws.next() >> 11) / Double(1 << 53)
        let delay = options.connectJitter * fraction
        guard delay > .zero else { return }
        connectsHeldUntil = now.advanced(by: delay)
    }

    /// Ends a wave's hold once its instant has come; true if it ended now.
    @discardableResult
    mutating func endHoldIfDue(now: Instant) -> Bool {
        guard let until = connectsHeldUntil, until <= now else { return false }
        connectsHeldUntil = nil
        return true
    }

    /// The pool lost sessions: its next connect starts a wave, unless a wave's hold is running already (the
    /// sessions of one restart break one after the other, and one hold covers them all) or a connect is under way
    /// (it ends the wave if it succeeds, and starts an outage, paced by the prober, if the server is down).
    ///
    /// The mark does not expire: a session lost while idle ones remain holds the pool's next connect, even one a
    /// long while later on a healthy server, by at most `connectJitter`. The pool cannot tell a lone loss from the
    /// first of a restart's, and a later burst's first connect waiting that long costs little.
    mutating func noteLoss() {
        if connectsHeldUntil == nil, connecting == 0 { connectJitterDue = true }
    }

    /// Takes a slot for a connect about to start.
    mutating func reserveSlot() {
        openCount += 1
        connecting += 1
    }
}
