import PostgresTransport

extension PostgresClient {
    /// Runs one statement and returns its rows, retrying as `options` allow.
    ///
    /// Interpolated values are bound as parameters (`"... WHERE id = \(id)"`), never spliced into the SQL. Declare
    /// `.readOnly` for a plain `SELECT` to have it retried after any transient failure: by default an operation is
    /// treated as a write that must not run twice.
    ///
    /// - Throws: ``PostgresError`` once retrying is no longer safe or useful.
    public func query(_ query: PostgresQuery, options: OperationOptions = .write) async throws -> PostgresRows {
        PostgresRows(try await run(query.sql, parameters: query.parameters, resultFormat: .binary, options: options))
    }

    /// Runs one statement and returns the number of rows it affected, retrying as `options` allow.
    ///
    /// - Throws: ``PostgresError`` once retrying is no longer safe or useful. When the outcome is unknown (the
    ///   answer to a write was lost), the error's ``PostgresError/mayHaveBeenApplied`` is true and nothing was
    ///   retried, unless `options` declare the statement idempotent.
    ///
    /// With ``OperationOptions/verifiedCommit``, the write and its commit marker run as one transaction in one
    /// round trip, and a lost answer is resolved before the call returns: applied, the call succeeds and returns
    /// 0, as the count was lost with the answer (0 is then no sign that nothing matched: when the count matters,
    /// as for an optimistic `UPDATE ... WHERE version = $1`, run the write in a `transaction` and return the count
    /// from it); not applied, it runs again.
    @discardableResult
    public func execute(_ query: PostgresQuery, options: OperationOptions = .write) async throws -> Int {
        if options.verifiesCommit {
            let write = BatchStatement(query.sql, parameters: query.parameters)
            return try await verifiedBatch([write], options: options)?[0].affectedRows ?? 0
        }
        let result = try await run(query.sql, parameters: query.parameters, resultFormat: .binary, options: options)
        return result.affectedRows ?? 0
    }

    /// Runs one write and returns the number of rows it affected; if its answer is lost, asks `wasApplied` whether
    /// it took effect before deciding to run it again.
    ///
    /// Use it for a write that can be recognised afterwards, typically by an idempotency key:
    /// ```swift
    /// let outcome = try await client.execute(
    ///     "INSERT INTO payments (key, amount) VALUES (\(key), \(amount))",
    ///     verifyingWith: { client in
    ///         try await client.query("SELECT 1 FROM payments WHERE key = \(key)", options: .readOnly).count == 1
    ///     }
    /// )
    /// ```
    /// `wasApplied` runs only when an attempt's outcome is unknown, with the client to query through. If it
    /// returns true, the call returns ``VerifiedOutcome/appliedEarlier``; if false, the write runs again within the
    /// same budget and attempt limit (once they are spent, the call throws a ``PostgresError`` that says the write
    /// was not applied); if it throws, the call throws the outcome-unknown ``PostgresError``. `wasApplied` runs in
    /// the caller's isolation: called from an actor, it may use the actor's state.
    public func execute(
        _ query: PostgresQuery,
        options: OperationOptions = .write,
        isolation: isolated (any Actor)? = #isolation,
        verifyingWith wasApplied: (PostgresClient) async throws -> Bool
    ) async throws -> VerifiedOutcome<Int> {
        // `retrying` keeps the check in an optional, which a closure may only be as an escaping one; it never
        // outlives this call.
        let completion = try await withoutActuallyEscaping(wasApplied) { wasApplied in
            try await retrying(
                options.safety(isTransactionBlock: false), isolation: isolation, verify: { try await wasApplied(self) }
            ) { connection, _, deadline in
                try await connection.execute(
                    query.sql, parameters: query.parameters, resultFormat: .binary,
                    caching: configuration.statementCaching, deadline: deadline
                )
            }
        }
        switch completion {
        case .completed(let result): return .completed(result.affectedRows ?? 0)
        case .verifiedApplied: return .appliedEarlier
        }
    }
}
