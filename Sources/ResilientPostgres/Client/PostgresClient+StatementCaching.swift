import PostgresPolicy
package import PostgresTransport

extension PostgresClient {
    /// How the client's statements reach the server: as the unnamed statement, parsed on every run, or as named
    /// prepared statements kept by each session.
    public enum StatementCaching: Sendable, Hashable {
        /// Every statement is sent as the unnamed statement (`PQsendQueryParams`): parsed and planned on each run,
        /// and safe behind PgBouncer in transaction mode, which managed PostgreSQL services put in front of the
        /// server. The default.
        case unnamed
        /// `query` and `execute` run as named prepared statements, prepared the first time a session runs them and
        /// reused after; each session keeps up to `capacity` of them, the least recently used deallocated first.
        ///
        /// Faster for statements run often, but only on a direct connection to PostgreSQL (or PgBouncer 1.21 and
        /// later with `max_prepared_statements` set): named statements belong to one server session, and PgBouncer
        /// in transaction mode moves clients between sessions. A statement the server no longer knows (26000, after
        /// `DISCARD ALL`) or whose cached plan no longer fits (0A000, after `ALTER TABLE`) is prepared again and the
        /// operation retried on the same session.
        case prepared(capacity: Int = 256)

        /// The most named statements a session keeps; 0 for ``unnamed``.
        var capacity: Int {
            switch self {
            case .unnamed: 0
            case .prepared(let capacity): max(0, capacity)
            }
        }
    }
}

extension DatabaseConnection {
    /// Runs one statement as `caching` says: as the unnamed statement, or as a cached named prepared statement;
    /// cancelled if it runs past `deadline`.
    ///
    /// Always inlined: on its own it would be one more layer of async calls, with its frame and its switch of
    /// executors, in every statement the client sends. The deadline comes as the retry loop keeps it, an
    /// `OffsetInstant`, a value of known size: a `ContinuousClock.Instant` would cost the caller an allocation of its
    /// task for every statement, and the statement's wait another.
    @inline(__always)
    package func execute(
        _ sql: String,
        parameters: [Parameter],
        resultFormat: ValueFormat,
        caching: PostgresClient.StatementCaching,
        deadline: OffsetInstant?
    ) async throws -> QueryResult {
        // The statement starts in the caller's job, without the trip into the session and back, and waits for its
        // answer from there too: on the session's own thread (an attempt that prefers it, `withSessionThread`, or
        // every task once the I/O threads are the global executor), or elsewhere while the thread runs no job (unless
        // the I/O threads are the global executor). Otherwise `startInPlace` does nothing: it checks itself.
        switch try startInPlace(
            sql, parameters: parameters, resultFormat: resultFormat, prepared: caching != .unnamed
        ) {
        case .answered(let result):
            return result
        case .waiting(let pending):
            // Completed by the `LibPQConnection` that sent it, called directly: through the protocol, the wait would
            // need a frame for a witness of its own. (A session that passes `startInPlace` on to a `LibPQConnection`
            // hands it a statement of that connection's.)
            return try await pending.session.completeWaiting(pending, deadline: deadline)
        case .mustStartOnActor:
            return try await executeOnActor(
                sql, parameters: parameters, resultFormat: resultFormat, caching: caching, deadline: deadline
            )
        }
    }

    /// Runs a statement that could not start in the caller's job through the session's entry point.
    ///
    /// Never inlined: the entry points take the deadline as a `ContinuousClock.Instant`, which would cost every
    /// statement that inlines ``execute(_:parameters:resultFormat:caching:deadline:)`` an allocation of its task.
    @inline(never)
    private func executeOnActor(
        _ sql: String,
        parameters: [Parameter],
        resultFormat: ValueFormat,
        caching: PostgresClient.StatementCaching,
        deadline: OffsetInstant?
    ) async throws -> QueryResult {
        let deadline = deadline.map(ContinuousClock.Instant.init)
        switch caching {
        case .unnamed:
            return try await execute(sql, parameters: parameters, resultFormat: resultFormat, deadline: deadline)
        case .prepared:
            return try await executePrepared(
                sql, parameters: parameters, resultFormat: resultFormat, deadline: deadline
            )
        }
    }
}
