public import ResilientPostgres

/// One attempt to open a session, as a test double saw it.
public struct RecordedConnect: Sendable, Hashable, CustomStringConvertible {
    /// How the attempt ended.
    public enum Outcome: Sendable, Hashable {
        /// It has not ended yet (a slow or hanging connect).
        case inProgress
        /// A session opened.
        case opened
        /// It failed.
        case failed
    }

    /// The attempt's number among all connects, from 1; statements name their session by it.
    public let number: Int
    /// The host it went to.
    public let host: String
    /// When it began, as time since the double's clock started.
    public let time: Duration
    /// The credential it signed in with, when the client's configuration has a `CredentialProvider`; nil otherwise.
    ///
    /// For an app's tests of its provider: which token each new session used. Its description hides the password.
    public let credential: Credential?
    /// The fault it was made to meet, or nil.
    public let fault: ConnectFault?
    /// How it ended.
    public internal(set) var outcome: Outcome

    /// The attempt's number, host, fault and outcome.
    public var description: String {
        "connect #\(number) to \(host)\(fault.map { " (\($0))" } ?? ""): \(outcome)"
    }
}
