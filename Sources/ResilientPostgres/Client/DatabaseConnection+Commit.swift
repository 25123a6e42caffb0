import PostgresTransport

extension DatabaseConnection {
    /// Runs `statement`, then `COMMIT`, one round trip each, for connections that do not pipeline (test doubles).
    ///
    /// The outcome is the same as a pipelined one's: a failure of the statement aborts the block before its
    /// `COMMIT` (a block that had already failed, the statement refused with 25P02, is reported as the `COMMIT`'s
    /// ``TransportError/Code/commitRolledBack``), and a failure of the `COMMIT` has phase `commitInFlight`. A double
    /// sees two statements.
    package func executeThenCommit(_ statement: BatchStatement, deadline: ContinuousClock.Instant?) async throws {
        do {
            _ = try await execute(statement.sql, parameters: statement.parameters, resultFormat: .text, deadline: deadline)
        } catch let error as TransportError where error.sqlState == .inFailedSQLTransaction {
            throw TransportError(
                code: .commitRolledBack,
                message: "COMMIT answered ROLLBACK: the transaction had failed, and nothing of it was committed",
                host: host, port: port, phase: .sent, isConnectionUsable: error.isConnectionUsable
            )
        }
        _ = try await execute("COMMIT", parameters: [], resultFormat: .text, deadline: deadline)
    }
}
