import PostgresTransport

extension DatabaseConnection {
    /// Runs `statement`, then `COMMIT`, one round trip each, for connections that do not pipeline (test doubles).
    ///
    /// The outcome is the same as a pipelined one's: a failure of the statement aborts the block before its
    /// `COMMIT`, and a failure of the `COMMIT` has phase `commitInFlight`. A double sees two statements.
    package func executeThenCommit(_ statement: BatchStatement, deadline: ContinuousClock.Instant?) async throws {
        _ = try await execute(statement.sql, parameters: statement.parameters, resultFormat: .text, deadline: deadline)
        _ = try await execute("COMMIT", parameters: [], resultFormat: .text, deadline: deadline)
    }
}
