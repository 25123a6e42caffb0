import PostgresPolicy
import PostgresTransport

extension FailureFacts {
    /// The facts of a transport failure, in the Policy's terms.
    init(_ error: TransportError, inHotStandby: Bool?) {
        let phase: FailureFacts.Phase =
            switch error.phase {
            case .connecting: .connecting
            case .notSent: .notSent
            case .sent: .sent
            case .commitInFlight: .commitInFlight
            }
        let kind: FailureFacts.Kind =
            switch error.code {
            case .connectDeadlineExceeded: .connectDeadlineExpired
            case .deadlineExceeded: .deadlineExpired
            case .cancelled: .cancelled
            case .commitRolledBack: .commitRolledBack
            case .invalidParameter, .invalidConnectionString: .invalidParameter
            default: .reported
            }
        // A SQLSTATE that came only from a notice, or with an error after the statement was answered, is not the
        // server's verdict on the statement: weigh it as a WARNING.
        let severity = error.sqlStateFromNotice || error.cameAfterAnswer ? "WARNING" : error.severity
        self.init(
            sqlState: error.sqlState.flatMap { SQLState($0) },
            severity: severity.map { FailureFacts.Severity($0) },
            message: error.message,
            detail: error.detail,
            phase: phase,
            isConnectionUsable: error.isConnectionUsable,
            kind: kind,
            inHotStandby: inHotStandby,
            isCachedStatement: error.isCachedStatement,
            // The client empties the names not found when one of them resolved for it before.
            hostNameNeverResolved: error.phase == .connecting && !error.hostNamesNotFound.isEmpty
        )
    }
}
