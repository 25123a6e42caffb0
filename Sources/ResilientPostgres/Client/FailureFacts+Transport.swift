import PostgresPolicy
import PostgresTransport

extension FailureFacts {
    /// The facts of a transport failure, in the Policy's terms (the two layers share SQLSTATE, severity and phase).
    init(_ error: TransportError, inHotStandby: Bool?) {
        self.init(
            sqlState: error.sqlState,
            // A SQLSTATE that came only from a notice, or with an error after the statement was answered, is not
            // the server's verdict on the statement: weigh it as a WARNING.
            severity: error.sqlStateFromNotice || error.cameAfterAnswer ? .warning : error.severity,
            message: error.message,
            detail: error.detail,
            phase: error.phase,
            isConnectionUsable: error.isConnectionUsable,
            kind: Kind(error),
            inHotStandby: inHotStandby,
            isCachedStatement: error.isCachedStatement,
            // The client empties the names not found when one of them resolved for it before.
            hostNameNeverResolved: error.phase == .connecting && !error.hostNamesNotFound.isEmpty
        )
    }
}

extension FailureFacts.Kind {
    /// Who made a transport failure: the connection layer's own codes, the app's credential provider (as it marked
    /// its error, an unmarked one counting as transient), or the server or network.
    init(_ error: TransportError) {
        switch error.code {
        case .credentialUnavailable:
            let isPermanent = (error.underlyingError as? CredentialError)?.isPermanent ?? false
            self = isPermanent ? .credentialRefused : .credentialUnavailable
        case .connectDeadlineExceeded: self = .connectDeadlineExpired
        case .deadlineExceeded: self = .deadlineExpired
        case .cancelled: self = .cancelled
        case .commitRolledBack: self = .commitRolledBack
        case .invalidParameter, .invalidConnectionString: self = .invalidParameter
        default: self = .reported
        }
    }
}
