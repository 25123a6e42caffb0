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
/// A SQLSTATE code, matchable by class (`"08"` matches `08006`).
public typealias SQLState = PostgresPolicy.SQLState

// `SQLState`'s own `~=` is a static member of a module that apps do not import, and Swift finds operators only in
// modules a file imports: without these, `case "23":` in an app would fall back to the standard library's `~=` for
// `Equatable` values and match code 23 alone, never 23505.

/// Whether `value` is `pattern`, or belongs to it when `pattern` is a class: `"23" ~= "23505"`.
public func ~= (pattern: SQLState, value: SQLState) -> Bool {
    pattern.isClass ? pattern == value.class : pattern == value
}

/// Whether `value` is present and is `pattern`, or belongs to it when `pattern` is a class.
public func ~= (pattern: SQLState, value: SQLState?) -> Bool {
    guard let value else { return false }
    return pattern.isClass ? pattern == value.class : pattern == value
}
/// libpq connection options, parsed by libpq from a connection string or a `postgresql://` URL.
public typealias ConnectionParameters = PostgresTransport.ConnectionParameters
/// The facts of one failure of a connection: SQLSTATE, server message, endpoint, phase.
public typealias TransportError = PostgresTransport.TransportError
