import PostgresTransport

extension PostgresClient {
    /// Runs several statements in one round trip, as one transaction, and returns their rows in order.
    ///
    /// The statements are pipelined (libpq's pipeline mode): sent one after another without waiting for answers,
    /// then committed together. Either all of them are applied or none: the first that fails rolls back the rest,
    /// and its index is in the error's ``PostgresError/lastFailure`` (`statementIndex`). They always run as the
    /// unnamed statement, whatever ``Configuration/statementCaching`` says. Transaction control (`BEGIN`, `COMMIT`,
    /// ...) is refused.
    ///
    /// Retried like a ``transaction(options:isolation:_:)`` block whose `COMMIT` is the end of the batch: the whole
    /// batch is run again after a serialization failure or deadlock (40001, 40P01), a lock timeout (55P03), or a
    /// session lost before the batch was fully sent, since in each case the server rolled it back. It is not run again
    /// when the answer was lost after the whole batch was sent (the outcome is unknown, and the error says so), unless
    /// `options` declare it read-only or idempotent; nor after a permanent failure, a timeout or a cancellation.
    ///
    /// With ``OperationOptions/verifiedCommit``, a commit marker ends the batch, in the same round trip, and a lost
    /// answer is resolved before the call returns: not applied, the batch runs again; applied, the call succeeds
    /// and returns one empty ``PostgresRows`` per statement, as the rows were lost with the answer (use a
    /// `transaction` when they matter).
    ///
    /// - Throws: ``PostgresError`` once retrying is no longer safe or useful.
    @discardableResult
    public func batch(_ queries: [PostgresQuery], options: OperationOptions = .write) async throws -> [PostgresRows] {
        guard !queries.isEmpty else { return [] }
        let statements = queries.map { BatchStatement($0.sql, parameters: $0.parameters) }
        if options.verifiesCommit {
            guard let results = try await verifiedBatch(statements, options: options) else {
                return statements.map { _ in PostgresRows(QueryResult.make(columns: [], rows: [], commandTag: "")) }
            }
            return results.map(PostgresRows.init)
        }
        let results = try await withRetries(options.safety(isTransactionBlock: true)) { connection, _, deadline in
            try await connection.executeBatch(
                statements, resultFormat: .binary, deadline: ContinuousClock.Instant(deadline)
            )
        }
        return results.map(PostgresRows.init)
    }
}

extension PostgresTransaction {
    /// Runs several statements of this transaction in one round trip, and returns their rows in order.
    ///
    /// The first that fails aborts the transaction, as any failing statement does, and is thrown with its index in
    /// `TransportError.statementIndex`; the client then decides, as for any statement of the block, whether to run
    /// the whole block again. Nothing is committed before the block's `COMMIT`.
    @discardableResult
    public func batch(_ queries: [PostgresQuery]) async throws -> [PostgresRows] {
        guard !queries.isEmpty else { return [] }
        let statements = queries.map { BatchStatement($0.sql, parameters: $0.parameters) }
        use.recordBatch()
        do {
            return try await connection.executeBatch(
                statements, resultFormat: .binary, deadline: OperationDeadline.current
            ).map(PostgresRows.init)
        } catch let error as TransportError {
            use.recordFailure(error)
            throw error
        }
    }
}
