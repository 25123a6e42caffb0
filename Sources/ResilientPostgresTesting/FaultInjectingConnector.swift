import PostgresTransport
import ResilientPostgres

/// Opens real libpq sessions through `real`, unless the connect's planned fault says otherwise.
struct FaultInjectingConnector: DatabaseConnector {
    let real: any DatabaseConnector
    let faults: FaultInjector
    /// The host and port the configuration names, for connects that fail before reaching any.
    let host: String
    let port: Int
    let connectTimeout: Duration

    func connect(deadline: ContinuousClock.Instant) async throws -> any DatabaseConnection {
        try await connect(deadline: deadline, credential: nil)
    }

    func connect(
        deadline: ContinuousClock.Instant,
        signingInWith credential: Credential
    ) async throws -> any DatabaseConnection {
        try await connect(deadline: deadline, credential: .some(credential))
    }

    private func connect(
        deadline: ContinuousClock.Instant,
        credential: Credential?
    ) async throws -> any DatabaseConnection {
        let plan = faults.plan
        let (number, fault) = plan.beginConnect(host: host, credential: credential)
        do {
            let session = try await open(number, fault: fault, credential: credential, deadline: deadline)
            plan.endConnect(number, opened: true)
            return session
        } catch {
            plan.endConnect(number, opened: false)
            throw error
        }
    }

    private func open(
        _ number: Int,
        fault: ConnectFault?,
        credential: Credential?,
        deadline: ContinuousClock.Instant
    ) async throws -> FaultInjectingSession {
        var onStandby = false
        if let fault {
            switch fault.kind {
            case .libpqMessage:
                throw fault.transportError(host: host, port: port)!
            case .timeout, .slow:
                let duration: Duration? = if case .slow(let duration) = fault.kind { duration } else { nil }
                let deadline = min(deadline, ContinuousClock.now.advanced(by: connectTimeout))
                switch await FaultWait.wait(duration, deadline: deadline, on: ContinuousClock()) {
                case .elapsed: break
                case .deadline: throw ConnectFault.deadlineError(host: host, port: port)
                case .cancelled: throw ConnectFault.cancelledError(host: host, port: port)
                }
            case .standby:
                onStandby = true
            }
        }
        let session = if let credential {
            try await real.connect(deadline: deadline, signingInWith: credential)
        } else {
            try await real.connect(deadline: deadline)
        }
        return FaultInjectingSession(real: session, number: number, plan: faults.plan, onStandby: onStandby)
    }
}
