internal import CLibPQ
import PostgresPolicy

extension LibPQConnection {
    /// Runs one statement as a named prepared statement of this session, and returns its result.
    ///
    /// The first time a statement (its text and parameter types) runs on the session, it is prepared and executed
    /// in one round trip (`PQsendPrepare` and `PQsendQueryPrepared`, pipelined); later runs only execute it, and the
    /// server reuses its parse and, often, its plan. The session keeps up to ``Options/preparedStatementCapacity``
    /// statements; the least recently used is deallocated (`DEALLOCATE`, sent with the next statement prepared).
    /// With a capacity of 0, and for transaction control (`BEGIN`, `COMMIT`, ...), `DEALLOCATE` and `DISCARD`, this
    /// is ``execute(_:parameters:resultFormat:deadline:)``.
    ///
    /// Named statements belong to one server session: behind PgBouncer in transaction mode (before 1.21's
    /// `max_prepared_statements`) they break. Use ``execute(_:parameters:resultFormat:deadline:)`` there.
    ///
    /// - Throws: ``TransportError``, as ``execute(_:parameters:resultFormat:deadline:)`` does. When the server says
    ///   the statement no longer exists (26000, after `DEALLOCATE ALL` or `DISCARD ALL`) or that its cached plan no
    ///   longer fits (0A000 `cached plan must not change result type`, after `ALTER TABLE`), the statement is
    ///   forgotten, so that the next run prepares it again; nothing ran, and the connection stays usable.
    public func executePrepared(
        _ sql: String,
        parameters: [Parameter] = [],
        resultFormat: ValueFormat = .text,
        deadline: ContinuousClock.Instant? = nil
    ) async throws -> QueryResult {
        guard preparedStatements.isEnabled, !StatementText.bypassesStatementCache(sql) else {
            return try await execute(sql, parameters: parameters, resultFormat: resultFormat, deadline: deadline)
        }
        let connection = try await beginStatement(deadline: deadline)
        let key = PreparedStatementCache.Key(sql: sql, parameterTypes: parameters.map(\.type))
        guard let name = preparedStatements.name(for: key) else {
            defer { isRunningStatement = false }
            try checkParameters(parameters)
            return try await prepareAndExecute(
                connection, key: key, parameters: parameters, resultFormat: resultFormat, deadline: deadline
            )
        }
        let start = try sendPrepared(
            connection, name: name, sql: sql, parameters: parameters, resultFormat: resultFormat
        )
        return try await complete(start, deadline: deadline)
    }

    /// Claims the connection and runs a statement prepared already, reading its answer as far as it has arrived,
    /// all without waiting; `mustStartOnActor`, claiming nothing, for a statement to prepare first (a pipeline of
    /// its own), one that bypasses the cache, or while a cancel request of an earlier statement is in flight.
    func startPreparedWithoutWaiting(
        _ sql: String,
        parameters: [Parameter],
        resultFormat: ValueFormat
    ) throws -> StatementStart {
        guard preparedStatements.isEnabled, !StatementText.bypassesStatementCache(sql) else {
            return try startWithoutWaiting(sql, parameters: parameters, resultFormat: resultFormat)
        }
        if cancellation.isInFlight { return .mustStartOnActor }
        let key = PreparedStatementCache.Key(sql: sql, parameterTypes: parameters.map(\.type))
        guard let name = preparedStatements.name(for: key) else { return .mustStartOnActor }
        return try sendPrepared(
            try startStatement(), name: name, sql: sql, parameters: parameters, resultFormat: resultFormat
        )
    }

    /// Runs a statement prepared earlier on this session (`PQsendQueryPrepared`), on the connection claimed for it,
    /// and reads its answer as far as it has arrived without waiting; `sql` is its text, for the error. The claim
    /// ends here, unless the statement is `waiting`, as in ``send(_:_:parameters:resultFormat:)``.
    private func sendPrepared(
        _ connection: OpaquePointer,
        name: String,
        sql: String,
        parameters: [Parameter],
        resultFormat: ValueFormat
    ) throws -> StatementStart {
        try endingClaimUnlessWaiting {
            try checkParameters(parameters)
            let wasConnected = PQstatus(connection) == CONNECTION_OK
            // `withCString`: no copy of the name on the heap (see `send`).
            let sent = name.withCString { name in
                ParameterBuffers.withBuffers(for: parameters) { count, _, values, lengths, formats in
                    PQsendQueryPrepared(connection, name, count, values, lengths, formats, resultFormat.rawValue)
                }
            }
            guard sent == 1 else {
                throw sendFailure(connection, wasConnected: wasConnected, phaseIfSent: .sent)
            }
            return try readWithoutWaiting(connection, statement: sql, phaseIfSent: .sent, preparedAs: name)
        }
    }

    /// Marks the failure of a statement run as the prepared statement `name`, and forgets the statement when the
    /// server no longer has it, or its plan no longer fits, so that the next run prepares it again.
    func notePreparedStatementFailure(_ error: inout TransportError, name: String) {
        error.isCachedStatement = true
        if error.sqlState == .invalidSQLStatementName {
            preparedStatements.forget(name, isStillPrepared: false)
        } else if error.sqlState == .featureNotSupported, error.message.contains("cached plan") {
            preparedStatements.forget(name, isStillPrepared: true)
        }
    }

    /// Prepares a statement and runs it in one round trip; deallocates the statements evicted from the cache after
    /// it, behind a sync of their own so that their failure cannot touch the statement's transaction.
    private func prepareAndExecute(
        _ connection: OpaquePointer,
        key: PreparedStatementCache.Key,
        parameters: [Parameter],
        resultFormat: ValueFormat,
        deadline: ContinuousClock.Instant?
    ) async throws -> QueryResult {
        let name = preparedStatements.add(key)
        let deallocations = preparedStatements.takePendingDeallocations()
        var commands: [PipelineCommand] = [
            .prepare(name: name, sql: key.sql, parameterTypes: key.parameterTypes),
            .executePrepared(name: name, parameters: parameters),
            .sync,
        ]
        let firstDeallocation = commands.count
        if !deallocations.isEmpty {
            commands += deallocations.map { .statement(sql: "DEALLOCATE \"\($0)\"", parameters: []) }
            commands.append(.sync)
        }
        let progress: PipelineProgress
        do {
            progress = try await runPipeline(
                connection, PipelinePlan(commands), resultFormat: resultFormat, deadline: deadline
            )
        } catch {
            preparedStatements.forget(name, isStillPrepared: false)
            preparedStatements.deallocationFailed(deallocations)
            throw error
        }
        if progress.takeResult(0) == nil {
            preparedStatements.forget(name, isStillPrepared: false)
        }
        // A DEALLOCATE that ran, or that found the statement gone (26000), is done; the others are tried again later.
        let failedDeallocation = progress.firstError.flatMap { error -> Int? in
            guard let command = error.command, command >= firstDeallocation else { return nil }
            return DiagnosticFields(error.result).sqlState == .invalidSQLStatementName ? command : nil
        }
        let notDeallocated = deallocations.indices.filter { index in
            let command = firstDeallocation + index
            return command != failedDeallocation && progress.takeResult(command) == nil
        }
        preparedStatements.deallocationFailed(notDeallocated.map { deallocations[$0] })

        // The statement's own transaction ended at the first sync; what came after it cannot change its outcome.
        let statementFailed = progress.firstError != nil && progress.firstErrorSegment == 0
        if progress.firstSyncAnswered, !statementFailed, let result = progress.takeResult(1) {
            return result
        }
        // The prepare and the execute are the statement; a DEALLOCATE's failure is the cache's own.
        if var failure = pipelineFailure(progress, statement: { $0 < firstDeallocation ? (nil, key.sql) : nil }) {
            failure.isCachedStatement = true
            throw failure
        }
        throw TransportError(
            code: .unsupportedResult, message: "the server sent no result for the statement",
            host: host, port: port, phase: .sent, isConnectionUsable: isUsable
        )
    }
}
