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
    /// Whether the failing statement was a named statement the client prepared and cached on the session itself.
    ///
    /// Only then does 26000 (the statement does not exist) or 0A000 `cached plan must not change result type` mean
    /// that the cache is out of date (``ErrorClass/staleStatement``, prepared again and retried); the same codes for
    /// an app's own `EXECUTE` are its mistake (``ErrorClass/permanent``).
    public var isCachedStatement: Bool
    /// Whether something the operation sent before this failure may already have taken effect: an earlier
    /// statement of the same session that committed (in autocommit, or by a `COMMIT` the app sent itself), or one
    /// whose own outcome was unknown.
    ///
    /// Then the operation as a whole may have been applied, whatever this failure says about its own statement: a
    /// write is not repeated (``RetryDecision/Reason/outcomeUnknown``) unless the operation may be repeated.
    public var earlierWorkMayHaveTakenEffect: Bool
    /// Whether a connect failed only because no host name it tried exists (the resolver answered NXDOMAIN,
    /// getaddrinfo's `EAI_NONAME`), and none of those names ever resolved for this client.
    ///
    /// Then the failure is ``ErrorClass/hostNotFound``: almost always a mistyped host. Leave it `false` for a name
    /// that resolved before (DNS changes during a failover, but the name keeps existing), for a lookup that failed
    /// otherwise (a DNS timeout or server failure, `EAI_AGAIN`), and whenever it is not known.
    public var hostNameNeverResolved: Bool

    /// Creates the facts of one failed attempt.
    public init(
        sqlState: SQLState? = nil,
        severity: Severity? = nil,
        message: String = "",
        detail: String? = nil,
        phase: Phase,
        isConnectionUsable: Bool,
        kind: Kind = .reported,
        inHotStandby: Bool? = nil,
        isCachedStatement: Bool = false,
        earlierWorkMayHaveTakenEffect: Bool = false,
        hostNameNeverResolved: Bool = false
    ) {
        self.sqlState = sqlState
        self.severity = severity
        self.message = message
        self.detail = detail
        self.phase = phase
        self.isConnectionUsable = isConnectionUsable
        self.kind = kind
        self.inHotStandby = inHotStandby
        self.isCachedStatement = isCachedStatement
        self.earlierWorkMayHaveTakenEffect = earlierWorkMayHaveTakenEffect
        self.hostNameNeverResolved = hostNameNeverResolved
    }
}
