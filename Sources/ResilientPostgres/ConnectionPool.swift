import PostgresPolicy
import PostgresTransport

/// A bounded set of sessions shared by a client's operations.
///
/// Idle sessions are reused last-in first-out (the warmest first); a session idle for longer than the liveness
/// interval is checked with an empty statement before reuse; sessions past their lifetime, broken, or from an earlier
/// epoch are closed instead of reused. When every slot is taken, operations wait first-come first-served until a
/// session is returned or a slot frees, at most until their deadline; a cancelled waiter leaves the queue at once.
///
/// When opening a session fails with a transient failure, the pool is in an outage: operations no longer connect
/// themselves but wait, and one prober reconnects on the reconnect backoff schedule. When it succeeds, the waiting
/// operations resume at once (see `ConnectionPool+Prober.swift`). A timer closes sessions idle or open for too long
/// and keeps the minimum idle ones, and while the server refuses sessions for want of slots no session is kept idle
/// beyond that minimum (see `ConnectionPool+Housekeeping.swift`).
actor ConnectionPool {
    struct Options: Sendable {
        var maxConnections: Int
        var minimumIdleConnections: Int
        var idleTimeout: Duration
        var maxLifetime: Duration
        var livenessCheckAfterIdle: Duration
        var connectTimeout: Duration
        /// The prober's pace while the database is unreachable.
        var reconnectBackoff: Backoff
        /// The prober's pace while the server refuses sessions for want of slots (53300): back-pressure, not an
        /// outage, so the waits are the retry policy's longer ones for resource limits.
        var resourceLimitBackoff: Backoff
        /// How long a liveness check of a session idle past ``livenessCheckAfterIdle`` may take.
        var livenessCheckTimeout: Duration = .seconds(5)
        var randomSeed: UInt64?
    }

    /// A session lent out by the pool, to be returned with ``release(_:reuse:)``.
    struct Lease: Sendable {
        let connection: any DatabaseConnection
        let epoch: Int
        let openedAt: ContinuousClock.Instant
    }

    /// The pool waited until the operation's deadline and no session became free.
    struct WaitTimedOut: Error {
        /// The last failure to open a session, when the wait was for the database to come back.
        var lastConnectFailure: TransportError?
    }

    /// The pool was shut down.
    struct ShutDown: Error {}

    struct IdleSession {
        var lease: Lease
        var idleSince: ContinuousClock.Instant
    }

    enum Ticket {
        case lease(Lease)
        case openSlot
        case failure(any Error)
    }

    struct Waiter {
        let id: UInt64
        let deadline: ContinuousClock.Instant
        let continuation: CheckedContinuation<Ticket, Never>
        let timeout: Task<Void, Never>?
    }

    /// The database could not be reached: one prober reconnects while operations wait.
    struct Outage {
        var lastFailure: TransportError
        var prober: Task<Void, Never>?
        /// The jitter of the prober's waits, and how far along its backoff it is.
        var jitter: SplitMix64
        var retries = 0
        var previousDelay: Duration?
        /// Whether the prober's last wake found no operation waiting.
        var noOneWaited = false

        init(lastFailure: TransportError, jitter: SplitMix64) {
            self.lastFailure = lastFailure
            self.jitter = jitter
        }
    }

    let connector: any DatabaseConnector
    let options: Options
    let clock: any ClientClock
    let metrics: ClientMetrics?
    var idle: [IdleSession] = []
    var waiters: [Waiter] = []
    private var nextWaiterID: UInt64 = 0
    /// Sessions open or being opened, idle or lent.
    private(set) var openCount = 0
    /// Moves on when every existing session must be replaced (after a failover).
    private(set) var epoch = 0
    private(set) var isShutDown = false
    var outage: Outage?
    /// How many sessions the pool tried to open, probes included.
    private(set) var connectAttempts = 0
    /// The timer that closes sessions idle or open for too long and keeps the minimum idle ones; running while
    /// there is something for it to do.
    var housekeeping: Task<Void, Never>?
    /// When the server last refused this pool a session for want of slots (53300).
    var lastSlotRefusal: ContinuousClock.Instant?
    /// The host names that resolved for this client, in lowercase (see `ConnectionPool+HostNames.swift`).
    var resolvedHostNames: Set<String> = []

    init(connector: any DatabaseConnector, options: Options, clock: any ClientClock, metrics: ClientMetrics?) {
        precondition(options.maxConnections >= 1, "a pool needs at least one connection")
        self.connector = connector
        self.options = options
        self.clock = clock
        self.metrics = metrics
    }

    /// The number of operations waiting for a session.
    var waiterCount: Int { waiters.count }
    /// The number of idle sessions.
    var idleCount: Int { idle.count }
    /// Whether the database is unreachable and a prober is reconnecting.
    var isInOutage: Bool { outage != nil }

    /// Lends a session: an idle one if any is fit, a new one if a slot is free, or the next one returned.
    ///
    /// - Throws: the connector's `TransportError` when opening a session fails; ``WaitTimedOut`` at the deadline;
    ///   `CancellationError` when the task is cancelled while waiting; ``ShutDown``.
    func acquire(deadline: ContinuousClock.Instant) async throws -> Lease {
        // A task cancelled already must not run liveness checks that fail for that reason alone, closing sessions.
        try Task.checkCancellation()
        if options.minimumIdleConnections > 0 { scheduleHousekeeping() }
        while true {
            guard !isShutDown else { throw ShutDown() }
            if let session = idle.popLast() {
                if let lease = try await checkedForReuse(session, deadline: deadline) { return lease }
                continue
            }
            if outage == nil, openCount < options.maxConnections {
                openCount += 1
                return try await open(deadline: deadline)
            }
            switch try await waitForTicket(deadline: deadline) {
            case .lease(let lease): return lease
            case .openSlot: return try await open(deadline: deadline)
            case .failure(let error): throw error
            }
        }
    }

    /// Takes a session back. A session that is broken, inside a transaction, from an old epoch or past its lifetime
    /// is closed (pass `reuse: false` to close it regardless). With `reset`, what app code left on the session is
    /// undone first, within the operation's `deadline` (the operation waits for it), and a session whose reset
    /// fails, or that no time is left to reset, is closed.
    func release(
        _ lease: Lease,
        reuse: Bool,
        reset: SessionReset? = nil,
        deadline: ContinuousClock.Instant? = nil
    ) async {
        guard reuse, isFit(lease), await lease.connection.isReadyForReuse() else {
            await discard(lease)
            return
        }
        if let reset {
            var resetDeadline = clock.now.advanced(by: options.livenessCheckTimeout)
            if let deadline { resetDeadline = min(resetDeadline, deadline) }
            guard clock.now < resetDeadline else {
                await discard(lease)
                return
            }
            do {
                try await lease.connection.resetSession(
                    deallocatingPreparedStatements: reset.deallocatesPreparedStatements,
                    deadline: resetDeadline
                )
            } catch {
                await discard(lease)
                return
            }
        }
        // The pool may have shut down, or moved to a new epoch, while the session was checked.
        guard isFit(lease) else {
            await discard(lease)
            return
        }
        if waiters.isEmpty, isUnderSlotPressure, idle.count >= options.minimumIdleConnections {
            // The server is full: a session no one here waits for is worth more to another client.
            await discard(lease)
            return
        }
        hand(lease, idleSince: clock.now)
    }

    /// Whether a session may be kept: the pool is running, and the session is of the current epoch and within its
    /// lifetime.
    private func isFit(_ lease: Lease) -> Bool {
        !isShutDown && lease.epoch == epoch && lease.openedAt.duration(to: clock.now) < options.maxLifetime
    }

    /// Moves to a new epoch: idle sessions are closed now, lent ones when they come back.
    func retireEpoch() async {
        epoch += 1
        let stale = idle
        idle.removeAll()
        for session in stale { await discard(session.lease) }
    }

    /// Closes every idle session, fails every waiter, stops the prober, and refuses new operations; lent sessions
    /// close on return.
    func shutdown() async {
        isShutDown = true
        housekeeping?.cancel()
        outage?.prober?.cancel()
        outage = nil
        let remaining = waiters
        waiters.removeAll()
        for waiter in remaining {
            waiter.timeout?.cancel()
            waiter.continuation.resume(returning: .failure(ShutDown()))
        }
        let sessions = idle
        idle.removeAll()
        for session in sessions { await discard(session.lease) }
        reportSize()
    }

    // MARK: - Internals

    func open(deadline: ContinuousClock.Instant) async throws -> Lease {
        connectAttempts += 1
        do {
            let connection = try await connector.connect(deadline: deadline)
            rememberHostName(of: connection)
            let lease = Lease(connection: connection, epoch: epoch, openedAt: clock.now)
            guard !isShutDown else {
                // Shut down while connecting: nothing may run on the new session.
                await discard(lease)
                throw ShutDown()
            }
            reportSize()
            return lease
        } catch let shutDown as ShutDown {
            throw shutDown
        } catch var failure as TransportError {
            failure = judgingHostNames(of: failure)
            // The outage first: a slot freed during one is not handed to a waiter, who would only be refused too.
            noteSlotRefusal(failure)
            beginOutageIfTransient(failure)
            slotFreed()
            throw failure
        } catch {
            slotFreed()
            throw error
        }
    }

    /// Opens one session for the prober, in a slot it reserved.
    func openForProbe() async throws -> Lease {
        connectAttempts += 1
        let connection: any DatabaseConnection
        do {
            connection = try await connector.connect(deadline: clock.now.advanced(by: options.connectTimeout))
        } catch let failure as TransportError {
            throw judgingHostNames(of: failure)
        }
        rememberHostName(of: connection)
        return Lease(connection: connection, epoch: epoch, openedAt: clock.now)
    }

    /// Gives a fit session to the first waiter, or keeps it idle.
    func hand(_ lease: Lease, idleSince: ContinuousClock.Instant) {
        if !waiters.isEmpty {
            resumeFirstWaiter(with: .lease(lease))
        } else {
            idle.append(IdleSession(lease: lease, idleSince: idleSince))
            scheduleHousekeeping()
        }
        reportSize()
    }

    /// The idle session if it is fit to lend; nil (after closing it) if not.
    ///
    /// A session idle past the liveness interval is checked first, within the operation's deadline. A check that
    /// fails closes it, and every other idle session due a check too: they share the path to the server that just
    /// failed, and checking each in turn would spend the operation's budget one timeout at a time.
    ///
    /// - Throws: ``WaitTimedOut`` when the operation's deadline passed; `CancellationError` when the task was
    ///   cancelled during the check; ``ShutDown`` when the pool shut down meanwhile.
    private func checkedForReuse(_ session: IdleSession, deadline: ContinuousClock.Instant) async throws -> Lease? {
        let now = clock.now
        let lease = session.lease
        // Readiness was checked when the session came back; only time and epochs change while it sits idle.
        guard isFit(lease) else {
            await discard(lease)
            return nil
        }
        guard session.idleSince.duration(to: now) >= options.livenessCheckAfterIdle else { return lease }
        guard now < deadline else {
            idle.append(session)
            throw WaitTimedOut(lastConnectFailure: outage?.lastFailure)
        }
        // An empty statement is the cheapest round trip: it proves the session and the path to it alive.
        do {
            _ = try await lease.connection.execute(
                "", parameters: [], resultFormat: .text,
                deadline: min(deadline, now.advanced(by: options.livenessCheckTimeout))
            )
        } catch let error as TransportError where error.code == .cancelled {
            // Cancelled during the check: the check proved nothing of the others, but a cancel request may be on
            // its way to this one.
            await discard(lease)
            throw CancellationError()
        } catch {
            await discard(lease)
            await discardIdleSessionsDueACheck()
            if clock.now >= deadline { throw WaitTimedOut(lastConnectFailure: outage?.lastFailure) }
            return nil
        }
        guard !isShutDown else {
            await discard(lease)
            throw ShutDown()
        }
        return lease
    }

    /// Closes the idle sessions that would need a liveness check before reuse.
    private func discardIdleSessionsDueACheck() async {
        let now = clock.now
        let due = idle.filter { $0.idleSince.duration(to: now) >= options.livenessCheckAfterIdle }
        guard !due.isEmpty else { return }
        idle.removeAll { $0.idleSince.duration(to: now) >= options.livenessCheckAfterIdle }
        for session in due { await discard(session.lease) }
    }

    func discard(_ lease: Lease) async {
        await lease.connection.close()
        slotFreed()
    }

    /// Reserves a slot for a session about to be opened, if one is free.
    func reserveSlot() -> Bool {
        guard openCount < options.maxConnections else { return false }
        openCount += 1
        return true
    }

    /// A slot freed: hand it to the first waiter, who opens a session in it; during an outage only the prober
    /// opens sessions, so the slot just becomes free.
    func slotFreed() {
        if outage == nil, !waiters.isEmpty {
            resumeFirstWaiter(with: .openSlot)
        } else {
            openCount -= 1
        }
        reportSize()
    }

    /// Lets waiters open sessions in every free slot (after an outage ends).
    func handOutFreeSlots() {
        while !waiters.isEmpty, openCount < options.maxConnections {
            openCount += 1
            resumeFirstWaiter(with: .openSlot)
        }
        reportSize()
    }

    func resumeFirstWaiter(with ticket: Ticket) {
        let waiter = waiters.removeFirst()
        waiter.timeout?.cancel()
        waiter.continuation.resume(returning: ticket)
    }

    func reportSize() {
        metrics?.recordPool(open: openCount, idle: idle.count, waiting: waiters.count)
    }

    private func waitForTicket(deadline: ContinuousClock.Instant) async throws -> Ticket {
        let id = nextWaiterID
        nextWaiterID += 1
        let clock = self.clock
        let ticket = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let timeout = Task { [weak self] in
                    do {
                        try await clock.sleep(until: deadline, tolerance: nil)
                    } catch {
                        return
                    }
                    await self?.endWaitAtDeadline(id)
                }
                waiters.append(Waiter(id: id, deadline: deadline, continuation: continuation, timeout: timeout))
                reportSize()
                if Task.isCancelled { endWait(id, with: .failure(CancellationError())) }
            }
        } onCancel: {
            Task { await self.endWait(id, with: .failure(CancellationError())) }
        }
        return ticket
    }

    private func endWaitAtDeadline(_ id: UInt64) {
        endWait(id, with: .failure(WaitTimedOut(lastConnectFailure: outage?.lastFailure)))
    }

    func endWait(_ id: UInt64, with ticket: Ticket) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        let waiter = waiters.remove(at: index)
        waiter.timeout?.cancel()
        waiter.continuation.resume(returning: ticket)
        reportSize()
    }
}
