public import PostgresPolicy
public import PostgresTransport

/// Why an operation failed, after whatever retries were safe: the class of the failure, why the client stopped,
/// every attempt it made, and the last error the server or libpq reported.
///
/// `description` is redacted (no statement's error text from the server, bound values or passwords), but shows why a
/// connect failed (`password authentication failed for user "app"`, `Connection refused`); `String(reflecting:)`
/// shows the last failure in full.
public struct PostgresError: Error, Sendable {
    /// Why the client stopped instead of retrying.
    public typealias Reason = RetryDecision.Reason

    /// The class of the last failure, which says what the caller can do.
    public var errorClass: ErrorClass
    /// Why the client gave up: permanent failure, outcome unknown, budget exhausted, cancelled, throttled, ...
    public var reason: Reason
    /// Every attempt, in order, with its class, SQLSTATE, phase and the wait after it.
    public var history: [RetryAttempt]
    /// How long the operation ran, from its start to giving up.
    public var elapsed: Duration
    /// The last failure as the connection reported it: SQLSTATE, server message, detail, host, phase.
    public var lastFailure: TransportError?
    /// Whether the operation may have been applied although it failed: any of its attempts may have (a write or
    /// `COMMIT` whose answer was lost, or a statement of a `withConnection` closure that committed before a later
    /// one failed), even when a later attempt failed before sending anything. When true, check (an idempotency
    /// key, say) before running it again.
    public var mayHaveBeenApplied: Bool

    /// The number of attempts made.
    public var attempts: Int { history.count }

    /// The SQLSTATE of the last failure, if the server sent one.
    public var sqlState: String? { lastFailure?.sqlState }

    package init(
        errorClass: ErrorClass,
        reason: Reason,
        history: [RetryAttempt],
        elapsed: Duration,
        lastFailure: TransportError?,
        mayHaveBeenApplied: Bool
    ) {
        self.errorClass = errorClass
        self.reason = reason
        self.history = history
        self.elapsed = elapsed
        self.lastFailure = lastFailure
        self.mayHaveBeenApplied = mayHaveBeenApplied
    }
}

extension PostgresError: CustomStringConvertible, CustomDebugStringConvertible {
    /// A redacted summary: class, reason, attempts, time, and the last failure's redacted description.
    public var description: String {
        var text = "PostgresError(\(errorClass.name), \(reason), attempts: \(attempts), elapsed: \(elapsed)"
        if mayHaveBeenApplied { text += ", may or may not have been applied" }
        if let lastFailure { text += ", last: \(lastFailure)" }
        return text + ") — \(errorClass.advice)"
    }

    /// Everything, including the server's message text of the last failure.
    public var debugDescription: String {
        var text = "PostgresError(\(errorClass.name), \(reason), attempts: \(attempts), elapsed: \(elapsed)"
        if mayHaveBeenApplied { text += ", may or may not have been applied" }
        if let lastFailure { text += ", last: \(String(reflecting: lastFailure))" }
        text += ", history: \(history)"
        return text + ")"
    }
}
