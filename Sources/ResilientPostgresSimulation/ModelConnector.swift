import ResilientPostgres
import ResilientPostgresTesting

/// Opens sessions of the model server as the library's libpq connector does with `host=h1,h2
/// target_session_attrs=read-write`: the first host that answers as a primary, each host within the per-host
/// timeout and all within the connect deadline, meeting the database's windows and the operation's planned connect
/// faults on the way.
struct ModelConnector: DatabaseConnector {
    let database: ModelDatabase
    let connectTimeout: Duration
    /// How long one connect waits for each host before it moves on (the client's `hostConnectTimeout`).
    let hostConnectTimeout: Duration?

    func connect(deadline: ContinuousClock.Instant) async throws -> any DatabaseConnection {
        let clock = database.clock
        // The library's connector bounds every connect by its connect timeout, as the libpq connector does.
        let deadline = min(deadline, clock.now.advanced(by: connectTimeout))
        let operation = database.currentOperation()
        database.connectBegan(operation: SimulationContext.operation, ownOperation: operation)
        defer { database.connectEnded(ownOperation: operation) }
        let fault = database.nextConnectFault(for: operation)
        let host = ModelDatabase.hosts[0]
        let port = ModelDatabase.port
        if Task.isCancelled { throw ConnectFault.cancelledError(host: host, port: port) }
        if clock.now >= deadline { throw ConnectFault.deadlineError(host: host, port: port) }

        if let window = database.window(at: database.now, [.down, .starting, .tooManyClients]) {
            let refusal: ConnectFault =
                switch window.kind {
                case .down: .connectionRefused
                case .starting: .serverStarting
                default: .tooManyConnections
                }
            throw refusal.transportError(host: host, port: port)!
        }
        switch fault {
        case .refused: throw ConnectFault.connectionRefused.transportError(host: host, port: port)!
        case .tooManyClients: throw ConnectFault.tooManyConnections.transportError(host: host, port: port)!
        case .starting: throw ConnectFault.serverStarting.transportError(host: host, port: port)!
        case .shuttingDown: throw ConnectFault.serverShuttingDown.transportError(host: host, port: port)!
        case .hung: try await wait(until: nil, deadline: deadline, host: host)
        case .slow(let duration): try await wait(until: clock.now.advanced(by: duration), deadline: deadline, host: host)
        case nil: break
        }
        // A black hole holds the whole connect: every host is behind it, so the library's deadline ends it.
        if let window = database.window(at: database.now, [.blackHole]) {
            try await wait(until: clock.start.advanced(by: window.end), deadline: deadline, host: host)
        }
        // A hung first host holds the connect for the per-host timeout, at most half of the time left, as the
        // library's libpq connector does; then the next host is tried.
        if let window = database.window(at: database.now, [.firstHostHung]) {
            var moveOn = clock.now.advanced(by: clock.now.duration(to: deadline) / 2)
            if let hostConnectTimeout { moveOn = min(moveOn, clock.now.advanced(by: hostConnectTimeout)) }
            try await wait(until: min(clock.start.advanced(by: window.end), moveOn), deadline: deadline, host: host)
        }
        let primary = database.primary()
        let session = ModelSession(database: database, number: database.sessionOpened(), hostIndex: primary)
        database.record(SimulationContext.operation, "s\(session.number): opened on \(ModelDatabase.hosts[primary])")
        return session
    }

    /// Waits until `end` (forever if nil) or the connect deadline, whichever is first; throws what the library
    /// reports at the deadline or on cancellation.
    private func wait(until end: ContinuousClock.Instant?, deadline: ContinuousClock.Instant, host: String) async throws {
        let clock = database.clock
        let target = end.map { min($0, deadline) } ?? deadline
        do {
            try await clock.sleep(until: target, tolerance: nil)
        } catch {
            throw ConnectFault.cancelledError(host: host, port: ModelDatabase.port)
        }
        if end.map({ $0 > deadline }) ?? true {
            throw ConnectFault.deadlineError(host: host, port: ModelDatabase.port)
        }
    }
}
