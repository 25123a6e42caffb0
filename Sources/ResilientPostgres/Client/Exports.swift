public import PostgresPolicy
public import PostgresTransport

// The names an application uses with the client, so that `import ResilientPostgres` is all it needs.

/// How failed operations are retried. See ``PostgresClient/Configuration/retryPolicy``.
public typealias RetryPolicy = PostgresPolicy.RetryPolicy
/// The waits between attempts.
public typealias Backoff = PostgresPolicy.Backoff
/// The class of a failure: what happened, in terms of what the caller can do about it.
public typealias ErrorClass = PostgresPolicy.ErrorClass
/// One failed attempt of an operation, as ``PostgresError/history`` lists them.
public typealias RetryAttempt = PostgresPolicy.RetryAttempt
/// What the client decided after a failure: retry after a delay, or stop for a reason (``PostgresError/Reason``).
public typealias RetryDecision = PostgresPolicy.RetryDecision
/// A SQLSTATE code, matchable by class (`"08"` matches `08006`), in `switch` and in `catch`.
public typealias SQLState = PostgresPolicy.SQLState
/// An error that carries a SQLSTATE: ``PostgresError`` and ``TransportError``.
public typealias SQLStateReporting = PostgresPolicy.SQLStateReporting
/// libpq connection options, parsed by libpq from a connection string or a `postgresql://` URL.
public typealias ConnectionParameters = PostgresTransport.ConnectionParameters
/// A notification a listener received: channel, payload, and the server process that sent it.
public typealias PostgresNotification = PostgresTransport.PostgresNotification
/// The facts of one failure of a connection: SQLSTATE, server message, endpoint, phase.
public typealias TransportError = PostgresTransport.TransportError
/// The wire format of a value, text or binary, as a custom ``PostgresDecodable`` reads it and a ``PostgresEncodable``
/// writes it.
public typealias ValueFormat = PostgresTransport.ValueFormat
