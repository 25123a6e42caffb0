public import PostgresPolicy
public import PostgresTransport

/// Why an operation failed, after whatever retries were safe: the class of the failure, why the client stopped,
/// every attempt it made, and the last error the server or libpq reported.
///
/// Thrown by the client's operations (`query`, `execute`, `transaction`, `withConnection`, ...) when they give up.
/// Inside a `transaction` or `withConnection` closure, statements throw the connection's ``TransportError``
/// instead, unchanged, so that the client can decide whether to run the closure again; if the closure lets it
/// escape, the operation then throws a `PostgresError` whose ``lastFailure`` it is. Both carry ``sqlState`` and
/// match a ``SQLState`` pattern, so one `catch` serves both:
///
/// ```swift
/// do {
///     try await client.execute("INSERT INTO users (email) VALUES (\(email))")
///     return .registered
/// } catch SQLState.uniqueViolation {
///     return .alreadyRegistered  // 23505, one code
/// } catch SQLState.Class.integrityConstraintViolation {
///     return .refused            // any other code of class 23
/// }
/// ```
///
/// `description` is redacted (no statement, no statement's error text from the server, no bound values or
/// passwords), but shows why a connect failed (`password authentication failed for user "app"`, `Connection
/// refused`); `String(reflecting:)` shows the last failure in full, with its statement.
public struct PostgresError: Error, Sendable, SQLStateReporting {
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

    /// For a row stream or a COPY TO STDOUT that failed part way: how many rows had been handed to the caller
    /// before the failure, none of them twice; resume after the last one (by its key). For a COPY, the data rows of
    /// the chunks handed over (``PostgresCopyOutStream`` says how they are told apart). Nil for other operations.
    public var rowsDelivered: Int?

    /// The number of attempts made.
    public var attempts: Int { history.count }

    /// The SQLSTATE of the last failure, if the server sent one: compare it with a code
    /// (`error.sqlState == .uniqueViolation`), or match a class (`case SQLState.Class.integrityConstraintViolation:`).
    public var sqlState: SQLState? { lastFailure?.sqlState }

    /// The error the app's ``CredentialProvider`` threw, when the last failure was that no credential could be had
    /// for a new session (`ErrorClass.credentialUnavailable`, or `ErrorClass.permanent` for an error marked
    /// ``CredentialError/permanent(_:)``); unwrapped from its ``CredentialError``. Descriptions name only its type.
    public var credentialError: (any Error)? {
        guard let error = lastFailure?.underlyingError else { return nil }
        return (error as? CredentialError)?.underlyingError ?? error
    }

    /// The SQL of the statement the last failure answered (`TransportError.statement`), with `$1`, `$2`, ... for
    /// its parameters, whose values are never kept. Shown by `String(reflecting:)`, never by `description`.
    public var statement: String? { lastFailure?.statement }

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
        if let rowsDelivered { text += ", rows delivered: \(rowsDelivered)" }
        if let lastFailure { text += ", last: \(lastFailure)" }
        return text + ") — \(errorClass.advice)"
    }

    /// Everything, including the server's message text of the last failure.
    public var debugDescription: String {
        var text = "PostgresError(\(errorClass.name), \(reason), attempts: \(attempts), elapsed: \(elapsed)"
        if mayHaveBeenApplied { text += ", may or may not have been applied" }
        if let rowsDelivered { text += ", rows delivered: \(rowsDelivered)" }
        if let lastFailure { text += ", last: \(String(reflecting: lastFailure))" }
        text += ", history: \(history)"
        return text + ")"
    }
}
