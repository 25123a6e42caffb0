import PostgresPolicy
import PostgresTransport
import ResilientPostgres
import ResilientPostgresTesting
import Testing

// Driving the pool's state machine for `PoolStateMachineTests`: transitions told as strings, invariants checked
// after each.

/// The machine under test: its connections are names.
typealias Machine = PoolStateMachine<String>

/// The instant `seconds` after the zero.
func at(_ seconds: Double) -> PoolInstant {
    PoolInstant(offset: .milliseconds(Int((seconds * 1000).rounded())))
}

/// A machine, the timers it set, and its transitions told as strings; the machine's invariants are checked after
/// every transition.
final class Subject {
    var machine: Machine
    /// Every timer set, in order.
    private(set) var timers: [Machine.Timer] = []

    init(
        maxConnections: Int,
        minimumIdle: Int = 0,
        maxLifetime: Int = 1_800,
        lifetimeSpread: Int = 0,
        reconnectBackoff: Backoff = .constant(.milliseconds(500)),
        maxConcurrentConnects: Int = .max,
        connectJitter: Double = 0
    ) {
        machine = Machine(options: PoolOptions(
            maxConnections: maxConnections, minimumIdleConnections: minimumIdle, idleTimeout: .seconds(60),
            maxLifetime: .seconds(maxLifetime), livenessCheckAfterIdle: .seconds(30), connectTimeout: .seconds(10),
            reconnectBackoff: reconnectBackoff, resourceLimitBackoff: .constant(.seconds(2)),
            livenessCheckTimeout: .seconds(5), randomSeed: 1, lifetimeSpread: .seconds(lifetimeSpread),
            maxConcurrentConnects: maxConcurrentConnects,
            connectJitter: .milliseconds(Int(connectJitter * 1000))
        ))
    }

    var counts: Machine.Counts { machine.counts }

    func request(deadline: Double, at now: Double) -> (step: String, actions: [String]) {
        told(machine.request(deadline: at(deadline), now: at(now)))
    }

    /// Opens a session for an operation: a slot, then the connect.
    func open(_ name: String, at now: Double) throws -> Machine.Lease {
        let (step, _) = machine.request(deadline: at(now + 60), now: at(now))
        guard case .connect = step else { throw Unexpected(step: describe(step)) }
        return try lease(name, at: now)
    }

    /// Queues an operation; returns its waiter and the actions.
    func wait(deadline: Double, at now: Double) throws -> (Machine.WaiterID, [String]) {
        let (step, actions) = machine.request(deadline: at(deadline), now: at(now))
        checkInvariants()
        guard case .wait(let waiter) = step else { throw Unexpected(step: describe(step)) }
        return (waiter, told(actions))
    }

    func connected(_ name: String, at now: Double) throws -> (step: String, actions: [String]) {
        let (step, actions) = machine.connected(name, host: "db.test", for: .operation, now: at(now))
        return told((try #require(step), actions))
    }

    /// The session an operation's connect opened, lent to it.
    func lease(_ name: String, at now: Double) throws -> Machine.Lease {
        let (step, actions) = machine.connected(name, host: "db.test", for: .operation, now: at(now))
        #expect(told(actions) == [])
        guard case .lease(let lease) = step else { throw Unexpected(step: step.map(describe) ?? "none") }
        return lease
    }

    func connectFailed(_ fault: ConnectFault, at now: Double) -> (step: String, actions: [String]) {
        let (step, actions) = machine.connectFailed(error(fault), for: .operation, now: at(now))
        return (step.map(describe) ?? "none", told(actions))
    }

    func proberConnected(_ name: String, at now: Double) -> [String] {
        told(machine.connected(name, host: "db.test", for: .prober, now: at(now)).actions)
    }

    func proberFailed(_ fault: ConnectFault, at now: Double) -> [String] {
        told(machine.connectFailed(error(fault), for: .prober, now: at(now)).actions)
    }

    func idleConnected(_ name: String, at now: Double) -> [String] {
        told(machine.connected(name, host: "db.test", for: .minimumIdle, now: at(now)).actions)
    }

    func idleConnectFailed(_ fault: ConnectFault, at now: Double) -> [String] {
        told(machine.connectFailed(error(fault), for: .minimumIdle, now: at(now)).actions)
    }

    func release(_ lease: Machine.Lease, reusable: Bool = true, at now: Double) -> [String] {
        let (next, actions) = machine.release(
            lease.id, reusable: reusable, resetting: false, deadline: nil, now: at(now)
        )
        #expect(describe(next) == "done")
        return told(actions)
    }

    func release(_ lease: Machine.Lease, resettingBy deadline: Double, at now: Double) -> (String, [String]) {
        let (next, actions) = machine.release(
            lease.id, reusable: true, resetting: true, deadline: at(deadline), now: at(now)
        )
        return (describe(next), told(actions))
    }

    func resetFinished(_ lease: Machine.Lease, succeeded: Bool, at now: Double) -> [String] {
        told(machine.resetFinished(lease.id, succeeded: succeeded, now: at(now)))
    }

    func checkPassed(_ lease: Machine.Lease, at now: Double) -> (step: String, actions: [String]) {
        told(machine.checkPassed(lease.id, now: at(now)))
    }

    func checkFailed(
        _ lease: Machine.Lease,
        cancelled: Bool = false,
        deadline: Double,
        at now: Double
    ) -> (step: String, actions: [String]) {
        told(machine.checkFailed(lease.id, cancelled: cancelled, deadline: at(deadline), now: at(now)))
    }

    /// The session closed, by default at the origin (before any waiter's deadline).
    func closed(_ lease: Machine.Lease, at now: Double = 0) -> [String] {
        told(machine.closed(lease.id, now: at(now)))
    }

    func cancel(_ waiter: Machine.WaiterID) -> [String] {
        told(machine.cancelWaiter(waiter))
    }

    func retireEpoch() -> [String] {
        told(machine.retireEpoch())
    }

    func shutdown() -> [String] {
        told(machine.shutdown())
    }

    /// Reports that a timer went off; nil when the machine ignored it.
    func fire(_ timer: Machine.Timer, at now: Double) -> [String]? {
        fire(timer, at: at(now))
    }

    func fire(_ timer: Machine.Timer, at now: PoolInstant) -> [String]? {
        machine.timerFired(timer, now: now).map(told)
    }

    func housekeepingFinished(at now: Double) -> [String] {
        housekeepingFinished(at: at(now))
    }

    func housekeepingFinished(at now: PoolInstant) -> [String] {
        told(machine.housekeepingFinished(now: now))
    }

    // MARK: Telling

    private func told(_ transition: (Machine.Step, [Machine.Action])) -> (step: String, actions: [String]) {
        (describe(transition.0), told(transition.1))
    }

    private func told(_ actions: [Machine.Action]) -> [String] {
        checkInvariants()
        return actions.map { action in
            switch action {
            case .resume(let waiter, let step): return "resume \(waiter): \(describe(step))"
            case .close(_, let connection): return "close \(connection)"
            case .probe(let deadline): return "probe by \(seconds(deadline))"
            case .schedule(let timer):
                timers.append(timer)
                return "set \(timer.kind) timer for \(seconds(timer.deadline))"
            case .cancel(let timer): return "cancel \(timer.kind) timer"
            }
        }
    }

    /// Slots are sessions plus connects under way, never more than the maximum; no operation waits while a session
    /// sits idle or while it could open one; connects under way stay within the limit (the prober's one aside); the
    /// operations' timer is set while an operation waits, never later than its deadline nor the end of a wave's
    /// hold.
    private func checkInvariants() {
        #expect(machine.openCount == machine.sessions.count + machine.connecting)
        #expect(machine.openCount <= machine.options.maxConnections)
        #expect(machine.idle.isEmpty || machine.waiters.isEmpty)
        #expect(machine.waiters.isEmpty || !machine.mayConnect)
        #expect(machine.connecting - (machine.isInOutage ? 1 : 0) <= machine.options.maxConcurrentConnects)
        if let earliest = machine.waiters.map(\.deadline).min() {
            #expect((machine.operationsTimer?.deadline).map { $0 <= earliest } == true)
        }
        if let held = machine.connectsHeldUntil, !machine.waiters.isEmpty {
            #expect((machine.operationsTimer?.deadline).map { $0 <= held } == true)
        }
    }

    private func error(_ fault: ConnectFault) -> TransportError {
        fault.transportError(host: "db.test", port: 5432)!
    }
}

struct Unexpected: Error {
    let step: String
}

func describe(_ step: Machine.Step) -> String {
    switch step {
    case .lease(let lease): return "lease \(lease.connection)"
    case .check(let lease, let deadline): return "check \(lease.connection) by \(seconds(deadline))"
    case .connect: return "connect"
    case .wait(let waiter): return "wait as \(waiter)"
    case .retry: return "retry"
    case .fail(let error): return "fail \(describe(error))"
    }
}

func describe(_ next: Machine.Return) -> String {
    switch next {
    case .done: "done"
    case .reset(let deadline): "reset by \(seconds(deadline))"
    }
}

func describe(_ error: any Error) -> String {
    switch error {
    case let timedOut as ConnectionPool.WaitTimedOut:
        timedOut.lastConnectFailure == nil ? "timed out" : "timed out waiting for the database"
    case is ConnectionPool.ShutDown: "shut down"
    case is CancellationError: "cancelled"
    case let failure as TransportError:
        failure.sqlState?.code ?? "\(failure.code)"
    default: "\(error)"
    }
}

func seconds(_ instant: PoolInstant) -> String {
    "\(Double(Int((instant.offset / .milliseconds(1)).rounded())) / 1000)"
}
