import PostgresTransport
import ResilientPostgres

/// Opens sessions of a ``ScriptedDatabase`` for a client, bounding each connect by the client's connect timeout as
/// the libpq connector does.
struct ScriptedConnector: DatabaseConnector {
    let database: ScriptedDatabase
    let connectTimeout: Duration

    func connect(deadline: ContinuousClock.Instant) async throws -> any DatabaseConnection {
        try await database.openSession(deadline: min(deadline, database.clock.now.advanced(by: connectTimeout)))
    }

    func connect(
        deadline: ContinuousClock.Instant,
        signingInWith credential: Credential
    ) async throws -> any DatabaseConnection {
        try await database.openSession(
            deadline: min(deadline, database.clock.now.advanced(by: connectTimeout)), credential: credential
        )
    }
}

extension ScriptedDatabase {
    /// Opens a session before `deadline`, signing in with `credential` if given, or meets the connect's planned
    /// fault.
    func openSession(deadline: ContinuousClock.Instant, credential: Credential? = nil) async throws -> ScriptedSession {
        let host = self.host
        let (number, fault) = plan.beginConnect(host: host, credential: credential)
        do {
            let session = try await open(number, host: host, fault: fault, deadline: deadline)
            plan.endConnect(number, opened: true)
            return session
        } catch {
            plan.endConnect(number, opened: false)
            throw error
        }
    }

    private func open(
        _ number: Int,
        host: String,
        fault: ConnectFault?,
        deadline: ContinuousClock.Instant
    ) async throws -> ScriptedSession {
        if Task.isCancelled { throw ConnectFault.cancelledError(host: host, port: port) }
        // The library's connect gives up at its deadline, before anything answers.
        if clock.now >= deadline { throw ConnectFault.deadlineError(host: host, port: port) }
        var onStandby = false
        if let fault {
            switch fault.kind {
            case .libpqMessage:
                throw fault.transportError(host: host, port: port)!
            case .timeout, .slow:
                let duration: Duration? = if case .slow(let duration) = fault.kind { duration } else { nil }
                switch await FaultWait.wait(duration, deadline: deadline, on: clock) {
                case .elapsed: break
                case .deadline: throw ConnectFault.deadlineError(host: host, port: port)
                case .cancelled: throw ConnectFault.cancelledError(host: host, port: port)
                }
            case .standby:
                onStandby = true
            }
        }
        return ScriptedSession(database: self, number: number, host: host, onStandby: onStandby)
    }
}
