import PostgresTransport

/// One pooled session, lent for the length of a ``PostgresClient/withConnection(options:isolation:_:)`` closure.
///
/// For work that needs one session: session settings (`SET`), advisory locks, temporary tables, or several
/// statements that must see each other's session state. Valid only inside that closure. Its statements throw the
/// connection's ``TransportError`` facts unchanged, so that the client can decide whether to run the closure again;
/// escaping the closure, one becomes the ``PostgresError`` the operation throws. Match either with a ``SQLState``
/// (`catch SQLState.uniqueViolation`).
public struct PostgresConnection: Sendable {
    let connection: any DatabaseConnection
    let statementCaching: PostgresClient.StatementCaching
    /// What the closure did with the session: whether any of it may have taken effect, what it may have left.
    let use: SessionUse

    package func run(_ sql: String, parameters: [Parameter], resultFormat: ValueFormat) async throws -> QueryResult {
        try await connection.run(
            sql, parameters: parameters, resultFormat: resultFormat, caching: statementCaching, recordingIn: use
        )
    }

    /// Runs one statement, its interpolated values bound as parameters, and returns the number of rows it affected.
    @discardableResult
    public func execute(_ query: PostgresQuery) async throws -> Int {
        try await run(query.sql, parameters: query.parameters, resultFormat: .binary).affectedRows ?? 0
    }

    /// Runs one statement, its interpolated values bound as parameters, and returns its rows.
    public func query(_ query: PostgresQuery) async throws -> PostgresRows {
        PostgresRows(try await run(query.sql, parameters: query.parameters, resultFormat: .binary))
    }

    /// The host the session is on.
    public var host: String? { connection.host }
}

extension PostgresClient {
    /// Lends one session to `body` for work that needs a single session, retrying as `options` allow.
    ///
    /// The closure is run again from the start (on a new session) only when nothing it sent can have taken effect,
    /// or when `options` declare it read-only or idempotent. A statement that succeeded outside a transaction block
    /// took effect (it committed as it ended; only `SET`, `SHOW`, `RESET` and the like are known not to change data),
    /// and so did a `COMMIT` the closure sent: once one has, any later failure is an unknown outcome, thrown as
    /// ``PostgresError`` with ``PostgresError/mayHaveBeenApplied`` set, even a failure that certainly did not apply
    /// its own statement (a serialization failure, a deadlock, a terminated session). Statements inside a
    /// transaction block the closure opened are rolled back by such a failure, so they do not count.
    ///
    /// The session goes back to the pool clean: what the closure left (settings, `SET ROLE`, advisory locks,
    /// temporary tables, `LISTEN`, open cursors, prepared statements) is reset first, and a session that cannot be
    /// reset, or that is left inside a transaction block, is closed instead. Session state therefore never carries
    /// into another operation, nor into a retry of this one: set it up inside the closure.
    ///
    /// The closure runs in the caller's isolation: called from an actor (the main actor, say), it may use the
    /// actor's state, and its result comes back to the caller. Called from no actor, it runs on the session's I/O
    /// thread, beside the session, so its statements need no switch of threads; while it runs, the other sessions
    /// of that thread wait: keep CPU-heavy work out of it, and never block in it. Pass a closure: a function passed
    /// by name (`client.withConnection(transfer)`) does not compile, since its result is not `sending`; write
    /// `client.withConnection { try await transfer($0) }`.
    public func withConnection<Result>(
        options: OperationOptions = .write,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        try await withLentSession(options.safety(isTransactionBlock: false), isolation: isolation) { connection, use in
            try await body(PostgresConnection(
                connection: connection, statementCaching: configuration.statementCaching, use: use
            ))
        }
    }
}
