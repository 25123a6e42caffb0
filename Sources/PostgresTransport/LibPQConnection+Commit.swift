internal import CLibPQ

extension LibPQConnection {
    /// Runs `statement` as the last statement of the open transaction block, then commits the block, both in one
    /// round trip (pipeline mode).
    ///
    /// Used to write a commit marker: a row that exists after the transaction exactly when the transaction
    /// committed, so that a `COMMIT` whose answer is lost can be looked up afterwards. The statement and `COMMIT`
    /// are queued together, so they cost no more than the `COMMIT` alone; the server runs `COMMIT` as it reads it,
    /// whatever follows.
    ///
    /// - Throws: ``TransportError``. The statement's own failure has phase `sent`: it aborted the block and nothing
    ///   was committed (the session stays in the failed block until `ROLLBACK`). A `COMMIT` answered with
    ///   `ROLLBACK`, or a block that had already failed (the statement rejected with 25P02), throws
    ///   ``TransportError/Code/commitRolledBack``. Any other failure once something was sent has phase
    ///   `commitInFlight`, as a failed `COMMIT` does: the transaction may have committed. So has a `COMMIT` that
    ///   succeeded with the server's warning that it committed locally only (its wait for a synchronous standby
    ///   cut short).
    public func executeThenCommit(_ statement: BatchStatement, deadline: ContinuousClock.Instant? = nil) async throws {
        let connection = try await beginStatement(deadline: deadline)
        defer { isRunningStatement = false }
        try checkParameters(statement.parameters)
        let commands: [PipelineCommand] = [
            .statement(sql: statement.sql, parameters: statement.parameters),
            .statement(sql: "COMMIT", parameters: []),
            .sync,
        ]
        let progress: PipelineProgress
        do {
            progress = try await runPipeline(
                connection, PipelinePlan(commands), resultFormat: .text, deadline: deadline
            )
        } catch var error as TransportError {
            // The three commands are queued together: once anything was sent, so was the COMMIT.
            if error.phase == .sent { error.phase = .commitInFlight }
            throw error
        }
        // The COMMIT's answer settles it, whatever came after (a session ended when the server read the sync).
        if let answer = progress.takeResult(1) {
            guard answer.commandTag != "ROLLBACK" else {
                throw TransportError(
                    code: .commitRolledBack,
                    message: "COMMIT answered ROLLBACK: the transaction had failed, and nothing of it was committed",
                    host: host, port: port, phase: .sent, isConnectionUsable: isUsable
                )
            }
            if let error = committedLocallyOnly() { throw error }
            return
        }
        let markerFailed = progress.firstError?.command == 0
        let sql = { (command: Int) in (index: Int?.none, sql: command == 0 ? statement.sql : "COMMIT") }
        guard var error = pipelineFailure(progress, statement: sql) else {
            throw TransportError(
                code: .unsupportedResult, message: "the server sent no result for the COMMIT",
                host: host, port: port, phase: .commitInFlight, isConnectionUsable: isUsable
            )
        }
        // The statement's error, reported by the server itself, means the block was aborted before its COMMIT.
        let rolledBack = markerFailed && error.sqlState != nil && !error.sqlStateFromNotice
        if rolledBack, error.sqlState == .inFailedSQLTransaction {
            // The block had failed before (an error it caught and went on from): its COMMIT would have answered
            // ROLLBACK, and it is reported as such, not as a failure of the statement.
            throw TransportError(
                code: .commitRolledBack,
                message: "COMMIT answered ROLLBACK: the transaction had failed, and nothing of it was committed",
                host: host, port: port, phase: .sent, isConnectionUsable: error.isConnectionUsable
            )
        }
        error.phase = rolledBack ? .sent : .commitInFlight
        throw error
    }

    /// The failure to report for a commit that succeeded only locally, if the server said so while the statement
    /// ran: a wait for a synchronous standby that was cancelled (a cancel request, a deadline) answers the `COMMIT`
    /// with success, after a WARNING whose DETAIL says the transaction "has already committed locally, but might not
    /// have been replicated to the standby".
    ///
    /// Such a commit is not durable as configured: a failover to the standby may lose it. Its outcome is reported as
    /// unknown (phase `commitInFlight`, the notice's DETAIL kept), as the same WARNING before a lost connection is.
    func committedLocallyOnly() -> TransportError? {
        guard let notice = notices.lastLocalCommit else { return nil }
        return TransportError(
            code: .server, sqlState: notice.sqlState, sqlStateFromNotice: true, severity: notice.severity,
            message: notice.message, detail: notice.detail, host: host, port: port, phase: .commitInFlight,
            isConnectionUsable: isUsable
        )
    }
}
