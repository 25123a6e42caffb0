/// What is known about one failed attempt, as the connection layer observed it.
///
/// Facts only: no judgement about retrying. ``errorClass`` classifies them and ``RetryPolicy`` decides from them.
/// Fill in everything the connection saw, including a SQLSTATE that arrived only in a WARNING notice before the
/// connection dropped, and leave out what was not seen (`nil`) rather than guessing: unknown facts make the
/// decision more careful, never less.
public struct FailureFacts: Sendable, Hashable {
    /// The SQLSTATE from the error result, the connect message, or a notice that came with the failure.
    public var sqlState: SQLState?
    /// The severity of the message that carried ``sqlState``; a notice's (`WARNING`) means the server did not
    /// report an error for the statement itself.
    public var severity: Severity?
    /// The primary message, as libpq or the server gave it (for example `server closed the connection unexpectedly`).
    public var message: String
    /// The server's DETAIL field, if any.
    public var detail: String?
    /// How far the attempt got before it failed.
    public var phase: Phase
    /// Whether the connection can run another statement after this failure.
    public var isConnectionUsable: Bool
    /// Whether the failure came from the server or the network, or was made by the connection layer itself.
    public var kind: Kind
    /// Whether the session was on a hot standby (`in_hot_standby`), or `nil` when not known.
    public var inHotStandby: Bool?

    /// Creates the facts of one failed attempt.
    public init(
        sqlState: SQLState? = nil,
        severity: Severity? = nil,
        message: String = "",
        detail: String? = nil,
        phase: Phase,
        isConnectionUsable: Bool,
        kind: Kind = .reported,
        inHotStandby: Bool? = nil
    ) {
        self.sqlState = sqlState
        self.severity = severity
        self.message = message
        self.detail = detail
        self.phase = phase
        self.isConnectionUsable = isConnectionUsable
        self.kind = kind
        self.inHotStandby = inHotStandby
    }
}
