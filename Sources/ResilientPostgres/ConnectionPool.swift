/// A bounded set of sessions shared by a client's operations.
///
/// Idle sessions are reused last-in first-out (the warmest first); a session idle for longer than the liveness
/// interval is checked with an empty statement before reuse; sessions past their lifetime, broken, or from an earlier
/// epoch are closed instead of reused. When every slot is taken, operations wait first-come first-served until a
/// session is returned or a slot frees, at most until their deadline; a cancelled waiter leaves the queue at once.
actor ConnectionPool {
    struct Options: Sendable {
        var maxConnections: Int
        var idleTimeout: Duration
        var maxLifetime: Duration
        var livenessCheckAfterIdle: Duration
    }

    /// A session lent out by the pool, to be returned with ``release(_:reuse:)``.
    struct Lease: Sendable {
        let connection: any DatabaseConnection
        fileprivate let epoch: Int
        fileprivate let openedAt: ContinuousClock.Instant
    }

    /// The pool waited until the operation's deadline and no session became free.
    struct WaitTimedOut: Error {}
    /// The pool was shut down.
    struct ShutDown: Error {}

    private struct IdleSession {
        var lease: Lease
        var idleSince: ContinuousClock.Instant
    }

    private enum Ticket {
        case lease(Lease)
        case openSlot
        case failure(any Error)
    }

    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Ticket, Never>
        let timeout: Task<Void, Never>?
    }

    private let connector: any DatabaseConnector
    private let options: Options
    private var idle: [IdleSession] = []
    private var waiters: [Waiter] = []
    private var nextWaiterID: UInt64 = 0
    /// Sessions open or being opened, idle or lent.
    private(set) var openCount = 0
    /// Moves on when every existing session must be replaced (after a failover).
    private(set) var epoch = 0
    private var isShutDown = false

    init(connector: any DatabaseConnector, options: Options) {
        precondition(options.maxConnections >= 1, "a pool needs at least one connection")
        self.connector = connector
        self.options = options
    }

    /// The number of operations waiting for a session.
    var waiterCount: Int { waiters.count }
    /// The number of idle sessions.
    var idleCount: Int { idle.count }

    /// Lends a session: an idle one if any is fit, a new one if a slot is free, or the next one returned.
    ///
    /// - Throws: the connector's `TransportError` when opening a session fails; ``WaitTimedOut`` at the deadline;
    ///   `CancellationError` when the task is cancelled while waiting; ``ShutDown``.
    func acquire(deadline: ContinuousClock.Instant) async throws -> Lease {
        while true {
            guard !isShutDown else { throw ShutDown() }
            if let session = idle.popLast() {
                if let lease = await checkedForReuse(session) { return lease }
                continue
            }
            if openCount < options.maxConnections {
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
    /// is closed (pass `reuse: false` to close it regardless).
    func release(_ lease: Lease, reuse: Bool) async {
        let now = ContinuousClock.now
        let fit = reuse && !isShutDown && lease.epoch == epoch
            && lease.openedAt.duration(to: now) < options.maxLifetime
        if fit, await lease.connection.isReadyForReuse() {
            if !waiters.isEmpty {
                resumeFirstWaiter(with: .lease(lease))
            } else {
                idle.append(IdleSession(lease: lease, idleSince: now))
            }
            return
        }
        await discard(lease)
    }

    /// Moves to a new epoch: idle sessions are closed now, lent ones when they come back.
    func retireEpoch() async {
        epoch += 1
        let stale = idle
        idle.removeAll()
        for session in stale { await discard(session.lease) }
    }

    /// Closes idle sessions that sat longer than the idle timeout.
    func closeIdleSessions(now: ContinuousClock.Instant = .now) async {
        let expired = idle.filter { $0.idleSince.duration(to: now) >= options.idleTimeout }
        guard !expired.isEmpty else { return }
        idle.removeAll { $0.idleSince.duration(to: now) >= options.idleTimeout }
        for session in expired { await discard(session.lease) }
    }

    /// Closes every idle session, fails every waiter, and refuses new operations; lent sessions close on return.
    func shutdown() async {
        isShutDown = true
        let remaining = waiters
        waiters.removeAll()
        for waiter in remaining {
            waiter.timeout?.cancel()
            waiter.continuation.resume(returning: .failure(ShutDown()))
        }
        let sessions = idle
        idle.removeAll()
        for session in sessions { await discard(session.lease) }
    }

    // MARK: - Internals

    private func open(deadline: ContinuousClock.Instant) async throws -> Lease {
        do {
            let connection = try await connector.connect(deadline: deadline)
            return Lease(connection: connection, epoch: epoch, openedAt: .now)
        } catch {
            slotFreed()
            throw error
        }
    }

    private func checkedForReuse(_ session: IdleSession) async -> Lease? {
        let now = ContinuousClock.now
        let lease = session.lease
        // Readiness was checked when the session came back; only time and epochs change while it sits idle.
        guard lease.epoch == epoch, lease.openedAt.duration(to: now) < options.maxLifetime else {
            await discard(lease)
            return nil
        }
        if session.idleSince.duration(to: now) >= options.livenessCheckAfterIdle {
            // An empty statement is the cheapest round trip: it proves the session and the path to it alive.
            do {
                _ = try await lease.connection.execute("", parameters: [], resultFormat: .text,
                                                       deadline: now.advanced(by: .seconds(5)))
            } catch {
                await discard(lease)
                return nil
            }
        }
        return lease
    }

    private func discard(_ lease: Lease) async {
        await lease.connection.close()
        slotFreed()
    }

    /// A slot freed: hand it to the first waiter, who opens a session in it.
    private func slotFreed() {
        if !waiters.isEmpty {
            resumeFirstWaiter(with: .openSlot)
        } else {
            openCount -= 1
        }
    }

    private func resumeFirstWaiter(with ticket: Ticket) {
        let waiter = waiters.removeFirst()
        waiter.timeout?.cancel()
        waiter.continuation.resume(returning: ticket)
    }

    private func waitForTicket(deadline: ContinuousClock.Instant) async throws -> Ticket {
        let id = nextWaiterID
        nextWaiterID += 1
        let ticket = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let timeout = Task { [weak self] in
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    guard !Task.isCancelled else { return }
                    await self?.endWait(id, with: .failure(WaitTimedOut()))
                }
                waiters.append(Waiter(id: id, continuation: continuation, timeout: timeout))
                if Task.isCancelled { endWait(id, with: .failure(CancellationError())) }
            }
        } onCancel: {
            Task { await self.endWait(id, with: .failure(CancellationError())) }
        }
        return ticket
    }

    private func endWait(_ id: UInt64, with ticket: Ticket) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        let waiter = waiters.remove(at: index)
        waiter.timeout?.cancel()
        waiter.continuation.resume(returning: ticket)
    }
}
