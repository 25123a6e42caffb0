import Logging
import PostgresPolicy
import PostgresTransport
import Synchronization

/// What the attempts of one write with ``OperationOptions/verifiedCommit`` share with its check: the marker id of
/// the latest attempt, and the value its block returned before its `COMMIT`.
private final class VerifiedAttempt<Result>: Sendable {
    private struct State {
        var markerID = ""
        var result: Disconnected<Result>?
    }

    private let state = Mutex(State())

    /// Starts an attempt: a fresh marker id, and no value yet.
    func start() -> String {
        let id = CommitMarkers.newID()
        state.withLock { $0 = State(markerID: id) }
        return id
    }

    /// The marker id of the latest attempt.
    var markerID: String { state.withLock { $0.markerID } }

    /// Keeps the value the attempt's block returned, until its `COMMIT` is settled.
    func keep(_ result: sending Result) {
        let boxed = Disconnected(result)
        state.withLock { $0.result = boxed }
    }

    /// The value kept by the latest attempt that reached its `COMMIT`.
    func takeResult() -> sending Result {
        guard let boxed = state.withLock({ state in defer { state.result = nil }; return state.result }) else {
            preconditionFailure("an attempt found applied reached its COMMIT with a value")
        }
        return boxed.take()
    }
}

extension PostgresClient {
    /// Runs `body` inside `BEGIN` ... `COMMIT`, the `COMMIT` pipelined with the attempt's commit marker; when the
    /// answer to `COMMIT` is lost, checks the marker and returns the block's value if it was applied.
    func verifiedTransaction<Result>(
        options: OperationOptions,
        isolation: isolated (any Actor)?,
        _ body: (PostgresTransaction) async throws -> sending Result
    ) async throws -> sending Result {
        let deadline = verifiedOperationDeadline()
        let statements = try await OperationDeadline.$offset.withValue(OffsetInstant(deadline)) {
            try await prepareCommitMarkers()
        }
        let attempt = VerifiedAttempt<Result>()
        let completion = try await OperationDeadline.$offset.withValue(OffsetInstant(deadline)) {
            Disconnected(try await retrying(
                options.safety(isTransactionBlock: true), isolation: isolation,
                verify: { try await self.commitMarkerWasWritten(attempt.markerID, in: statements) }, lendsSession: true
            ) { connection, use, deadline in
                let marker = commitMarkers.marker(attempt.start(), in: statements)
                // A lent session always comes with its use; the block's statements read the deadline from the task.
                try await OperationDeadline.$offset.withValue(deadline) {
                    try await runVerifiedBlock(on: connection, use: use!, marker: marker, isolation: isolation, body) {
                        attempt.keep($0)
                    }
                }
                return attempt.takeResult()
            })
        }.take()
        pruneCommitMarkersIfDue()
        switch completion {
        case .completed(let result): return result
        case .verifiedApplied: return attempt.takeResult()
        }
    }

    /// Runs `statements` and a commit marker as one transaction in one round trip; when the answer is lost, checks
    /// the marker. Returns the statements' results, or `nil` when the check found them applied (their answers were
    /// lost).
    func verifiedBatch(_ statements: [BatchStatement], options: OperationOptions) async throws -> [QueryResult]? {
        let deadline = verifiedOperationDeadline()
        let attempt = VerifiedAttempt<Int>()
        let completion = try await OperationDeadline.$offset.withValue(OffsetInstant(deadline)) {
            let markers = try await prepareCommitMarkers()
            return try await retrying(
                options.safety(isTransactionBlock: true), isolation: nil,
                verify: { try await self.commitMarkerWasWritten(attempt.markerID, in: markers) }
            ) { connection, _, deadline in
                let marker = commitMarkers.marker(attempt.start(), in: markers)
                do {
                    let results = try await connection.executeBatch(
                        statements + [marker], resultFormat: .binary, deadline: ContinuousClock.Instant(deadline)
                    )
                    return Array(results.dropLast())
                } catch let error as TransportError {
                    if error.statementIndex == statements.count { markerFailed(error) }
                    throw error
                }
            }
        }
        pruneCommitMarkersIfDue()
        switch completion {
        case .completed(let results): return results
        case .verifiedApplied: return nil
        }
    }

    /// The deadline of a verified operation, from now: the marker table's preparation (on a client's first one) and
    /// the operation itself share one budget, which ends no later than that of an operation this one runs inside.
    private func verifiedOperationDeadline() -> ContinuousClock.Instant {
        let own = clock.now.advanced(by: configuration.retryPolicy.budget)
        return OperationDeadline.current.map { min($0, own) } ?? own
    }

    /// `BEGIN`, `body`, then the marker and `COMMIT` in one round trip; hands the block's value to `keep` before
    /// `COMMIT` is sent, so that it is at hand if the answer is lost and the check finds the block applied.
    private func runVerifiedBlock<Result>(
        on connection: any DatabaseConnection,
        use: SessionUse,
        marker: BatchStatement,
        isolation: isolated (any Actor)?,
        _ body: (PostgresTransaction) async throws -> sending Result,
        keep: (sending Result) -> Void
    ) async throws {
        let deadline = OperationDeadline.current
        _ = try await connection.execute("BEGIN", parameters: [], resultFormat: .text, deadline: deadline)
        let result: Result
        do {
            result = try await body(
                PostgresTransaction(connection: connection, statementCaching: configuration.statementCaching, use: use)
            )
        } catch {
            // Leave the session clean for the pool; if it is broken, the pool closes it anyway.
            _ = try? await connection.execute("ROLLBACK", parameters: [], resultFormat: .text, deadline: deadline)
            throw error
        }
        keep(result)
        do {
            try await connection.executeThenCommit(marker, deadline: deadline)
        } catch let error as TransportError {
            // The marker itself failed: the block is aborted, and still open on a session that survived.
            if error.phase == .sent, error.isConnectionUsable, !connection.isReadyForReuse {
                _ = try? await connection.execute("ROLLBACK", parameters: [], resultFormat: .text, deadline: deadline)
            }
            if error.phase == .sent { markerFailed(error) }
            throw error
        }
    }

    /// Takes note of a marker the server refused: a table found missing (dropped since) is looked up again, and
    /// created if it may be, by the next verified write.
    private func markerFailed(_ error: TransportError) {
        guard error.sqlState == .undefinedTable else { return }
        commitMarkers.tableLost()
        logger.warning("the commit marker table is gone", metadata: ["postgres.table": "\(commitMarkers.table)"])
    }

    /// Whether the transaction that wrote marker `id` committed, read on whatever server the pool reaches now.
    ///
    /// One statement on one session (see ``CommitMarkers/Statements/claim``): it claims the id, or finds the row
    /// that holds it, and in both cases writes, so that its commit waits for a synchronous standby to have
    /// everything up to it, the marker it found among it. Once that commit is in, the answer cannot change, and
    /// survives a failover to that standby. Sent as a one-statement batch, whose commit, if it succeeded only
    /// locally (its wait for the standby cut short), counts as failed. Repeated within the operation's budget when
    /// it fails, as it is idempotent. Runs as the client's own operation, out of the app's attempt events and
    /// metrics.
    func commitMarkerWasWritten(_ id: String, in statements: CommitMarkers.Statements) async throws -> Bool {
        let check = commitMarkers.check(id, in: statements)
        let safety = OperationOptions.idempotent.safety(isTransactionBlock: true)
        return try await InternalOperation.$isRunning.withValue(true) {
            try await withRetries(safety) { connection, _, deadline in
                let found = try await connection.executeBatch(
                    [check], resultFormat: .text, deadline: ContinuousClock.Instant(deadline)
                )[0]
                guard found.rowCount == 1, let isFence = found.string(row: 0, column: 0) else {
                    // Not a row of the table as the client defines it (an app's own, say): nothing can be concluded.
                    throw PostgresError(
                        errorClass: .outcomeUnknown, reason: .outcomeUnknown, history: [], elapsed: .zero,
                        lastFailure: nil, mayHaveBeenApplied: true
                    )
                }
                return isFence == "f"
            }
        }
    }

    /// Makes sure the marker table exists, once per client: looks it up, and creates it if missing; returns its
    /// statements, which name it schema-qualified as found.
    ///
    /// - Throws: ``PostgresError`` when the table is missing and cannot be created (a role without `CREATE` on its
    ///   schema), its last failure saying so and giving the definition, or when the configured name is not valid.
    func prepareCommitMarkers() async throws -> CommitMarkers.Statements {
        if let statements = commitMarkers.statements { return statements }
        let table = commitMarkers.table
        guard commitMarkers.isValidTableName else {
            throw markerTableError(
                TransportError(
                    code: .invalidParameter, message: "", host: nil, port: nil, phase: .notSent,
                    isConnectionUsable: true
                ),
                "\"\(table)\" is not a valid commit marker table name (a name or schema.name of letters, digits "
                    + "and underscores)"
            )
        }
        return try await InternalOperation.$isRunning.withValue(true) {
            if let found = try await resolveCommitMarkerTable() {
                return commitMarkers.tableFound(as: found, at: clock.now)
            }
            do {
                for statement in commitMarkers.definition {
                    _ = try await run(statement, parameters: [], resultFormat: .text, options: .idempotent)
                }
                logger.notice("created the commit marker table", metadata: ["postgres.table": "\(table)"])
            } catch var error as PostgresError {
                // Created at the same moment by another operation or process (two creations of one table race
                // in the catalog): it is there now.
                if let found = try await resolveCommitMarkerTable() {
                    return commitMarkers.tableFound(as: found, at: clock.now)
                }
                guard error.errorClass == .permanent, let failure = error.lastFailure else { throw error }
                error.lastFailure = markerTableError(
                    failure,
                    "the commit marker table \(table) is missing and could not be created (\(failure.message))"
                ).lastFailure
                logger.error("the commit marker table is missing and could not be created", metadata: [
                    "postgres.table": "\(table)", "postgres.sqlstate": "\(failure.sqlState?.code ?? "none")",
                ])
                throw error
            }
            guard let found = try await resolveCommitMarkerTable() else {
                throw markerTableError(
                    TransportError(
                        code: .server, message: "", host: nil, port: nil, phase: .sent, isConnectionUsable: true
                    ),
                    "the commit marker table \(table) was created, then not found (dropped at once, or created in "
                        + "a schema outside the search_path)"
                )
            }
            return commitMarkers.tableFound(as: found, at: clock.now)
        }
    }

    /// The marker table's schema-qualified name, or nil when it does not exist.
    private func resolveCommitMarkerTable() async throws -> String? {
        let found = try await run(
            CommitMarkers.Statements.resolution, parameters: [.text(commitMarkers.table)], resultFormat: .text,
            options: .readOnly
        )
        return found.rowCount == 1 ? found.string(row: 0, column: 0) : nil
    }

    private func markerTableError(_ failure: TransportError, _ message: String) -> PostgresError {
        var failure = failure
        failure.message = message
        failure.hint = "Create it once, as a role that may: \(commitMarkers.definition.joined(separator: "; "))"
        return PostgresError(
            errorClass: .permanent, reason: .permanent, history: [], elapsed: .zero, lastFailure: failure,
            mayHaveBeenApplied: false
        )
    }

    /// Deletes expired markers in the background when a prune is due: a batch at a time, each its own short
    /// transaction skipping rows others hold, so that it never holds locks for long, until a batch finds fewer than
    /// it may delete. A failure is left for the next prune; the first is logged as a warning, since a role that may
    /// not delete from the table lets it grow. ``shutdown()`` cancels a prune and waits for it.
    private func pruneCommitMarkersIfDue() {
        guard commitMarkers.claimPrune(at: clock.now), let statements = commitMarkers.statements else { return }
        commitMarkers.startPrune { [self] in
            do {
                try await InternalOperation.$isRunning.withValue(true) {
                    while !Task.isCancelled {
                        let pruned = try await run(
                            statements.prune, parameters: [], resultFormat: .text, options: .idempotent
                        )
                        if (pruned.affectedRows ?? 0) < CommitMarkers.pruneBatch { break }
                    }
                }
            } catch {
                guard !Task.isCancelled else { return }
                let level: Logger.Level = commitMarkers.pruneFailed() ? .warning : .debug
                logger.log(
                    level: level, "pruning commit markers failed; the table grows until a prune succeeds",
                    metadata: ["postgres.table": "\(statements.table)", "postgres.error": "\(error)"]
                )
            }
        }
    }
}
