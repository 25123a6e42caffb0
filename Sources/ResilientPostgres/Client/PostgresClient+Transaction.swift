import PostgresPolicy
import PostgresTransport

/// A transaction block in progress, handed to the closure of ``PostgresClient/transaction(options:isolation:_:)``.
///
/// Valid only inside that closure. Its statements throw the connection's ``TransportError`` facts unchanged, so that
/// the client can decide whether to run the whole block again; escaping the closure, one becomes the
/// ``PostgresError`` the operation throws. Match either with a ``SQLState`` (`catch SQLState.uniqueViolation`).
public struct PostgresTransaction: Sendable {
    let connection: any DatabaseConnection
    let statementCaching: PostgresClient.StatementCaching
    /// What the block did with the session: whether any of it may have taken effect before its `COMMIT` (a
    /// `COMMIT` it sent itself), and what it may have left.
    let use: SessionUse

    /// Runs one statement of the block and records what it did. Always inlined into ``execute(_:)`` and
    /// ``query(_:)``: one async layer less for every statement of a transaction.
    @inline(__always)
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
}

extension PostgresClient {
    /// Runs `body` inside `BEGIN` ... `COMMIT`, running the whole block again when that is safe.
    ///
    /// The block is run again after a serialization failure or deadlock (40001, 40P01), a lock timeout (55P03), or
    /// a session lost before `COMMIT` was sent: in each case the server rolled back, and nothing of the block was
    /// applied. It is not run again when `COMMIT` itself was lost in flight (the outcome is unknown: the error says
    /// so), unless the options declare the block idempotent. An error thrown by `body` itself rolls the block back
    /// and is rethrown as it is.
    ///
    /// `body` may therefore run more than once: keep effects outside the database out of it. A block that commits by
    /// itself (sends `COMMIT`, then goes on in autocommit) is treated like ``withConnection(options:isolation:_:)``:
    /// once that `COMMIT` succeeded, a later failure is an unknown outcome. The session goes back to the pool clean,
    /// with what the block left (settings, advisory locks, temporary tables) reset, as after
    /// ``withConnection(options:isolation:_:)``.
    ///
    /// The closure runs in the caller's isolation: called from an actor (the main actor, say), it may use the
    /// actor's state, and its result comes back to the caller. Called from no actor, it runs on the session's I/O
    /// thread, beside the session, so its statements need no switch of threads; while it runs, the other sessions
    /// of that thread wait: keep CPU-heavy work out of it, and never block in it. Pass a closure: a function passed
    /// by name (`client.transaction(transfer)`) does not compile, since its result is not `sending`; write
    /// `client.transaction { try await transfer($0) }`.
    ///
    /// With ``OperationOptions/verifiedCommit``, the `COMMIT` goes with a commit marker in one round trip, and a
    /// lost answer to it is resolved before the call returns: applied, the call returns what `body` returned;
    /// not applied, the block runs again within the same budget.
    public func transaction<Result>(
        options: OperationOptions = .write,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresTransaction) async throws -> sending Result
    ) async throws -> sending Result {
        if options.verifiesCommit { return try await verifiedTransaction(options: options, isolation: isolation, body) }
        let safety = options.safety(isTransactionBlock: true)
        return try await withLentSession(safety, isolation: isolation) { connection, use in
            try await runBlock(on: connection, use: use, isolation: isolation, body)
        }
    }

    /// Runs `body` inside `BEGIN` ... `COMMIT` like ``transaction(options:isolation:_:)``; if the answer to `COMMIT` is
    /// lost, asks `wasApplied` whether the block took effect before deciding to run it again.
    ///
    /// `wasApplied` runs only when the outcome is unknown, with the client to query through (look for a row the
    /// block writes, such as one keyed by an idempotency key). If it returns true, the call returns
    /// ``VerifiedOutcome/appliedEarlier``; if false, the block runs again within the same budget and attempt limit;
    /// if it throws, the call throws the outcome-unknown ``PostgresError``. Both closures run in the caller's
    /// isolation, as the closure of ``transaction(options:isolation:_:)`` does.
    public func transaction<Result>(
        options: OperationOptions = .write,
        isolation: isolated (any Actor)? = #isolation,
        verifyingWith wasApplied: (PostgresClient) async throws -> Bool,
        _ body: (PostgresTransaction) async throws -> sending Result
    ) async throws -> sending VerifiedOutcome<Result> {
        // `retrying` keeps the check in an optional, which a closure may only be as an escaping one; it never
        // outlives this call.
        let completion = try await withoutActuallyEscaping(wasApplied) { wasApplied in
            Disconnected(try await retrying(
                options.safety(isTransactionBlock: true), isolation: isolation, verify: { try await wasApplied(self) },
                lendsSession: true
            ) { connection, use, deadline in
                // A lent session always comes with its use; the block's statements read the deadline from the task.
                try await OperationDeadline.$offset.withValue(deadline) {
                    Disconnected(try await runBlock(on: connection, use: use!, isolation: isolation, body))
                }.take()
            })
        }.take()
        switch completion {
        case .completed(let result): return .completed(result)
        case .verifiedApplied: return .appliedEarlier
        }
    }

    private func runBlock<Result>(
        on connection: any DatabaseConnection,
        use: SessionUse,
        isolation: isolated (any Actor)?,
        _ body: (PostgresTransaction) async throws -> sending Result
    ) async throws -> sending Result {
        _ = try await connection.execute("BEGIN", parameters: [], resultFormat: .text, deadline: OperationDeadline.current)
        let result: Result
        do {
            result = try await body(
                PostgresTransaction(connection: connection, statementCaching: configuration.statementCaching, use: use)
            )
        } catch {
            // Leave the session clean for the pool; if it is broken, the pool closes it anyway.
            _ = try? await connection.execute("ROLLBACK", parameters: [], resultFormat: .text, deadline: OperationDeadline.current)
            throw error
        }
        _ = try await connection.execute("COMMIT", parameters: [], resultFormat: .text, deadline: OperationDeadline.current)
        return result
    }
}
