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
    @discardableResult
    public func execute(_ query: PostgresQuery, options: OperationOptions = .write) async throws -> Int {
        try await run(query.sql, parameters: query.parameters, resultFormat: .binary, options: options).affectedRows ?? 0
    }
}
