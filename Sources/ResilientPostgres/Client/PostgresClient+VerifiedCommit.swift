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
        try await OperationDeadline.$current.withValue(deadline) { try await prepareCommitMarkers() }
        let attempt = VerifiedAttempt<Result>()
        let completion = try await OperationDeadline.$current.withValue(deadline) {
            Disconnected(try await retrying(
                options.safety(isTransactionBlock: true), isolation: isolation,
                verify: { try await self.commitMarkerWasWritten(attempt.markerID) }, lendsSession: true
            ) { connection, use, deadline in
                let marker = commitMarkers.marker(attempt.start())
                // A lent session always comes with its use; the block's statements read the deadline from the task.
                try await OperationDeadline.$current.withValue(deadline) {
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

    /// Runs one write and its commit marker as one transaction in one round trip; when the answer is lost, checks
    /// the marker. Returns the number of rows the write affected, or 0 when the check found it applied (its answer,
    /// and so its count, was lost).
    func verifiedExecute(_ query: PostgresQuery, options: OperationOptions) async throws -> Int {
        let deadline = verifiedOperationDeadline()
        let attempt = VerifiedAttempt<Int>()
        let write = BatchStatement(query.sql, parameters: query.parameters)
        let completion = try await OperationDeadline.$current.withValue(deadline) {
            try await prepareCommitMarkers()
            return try await retrying(
                options.safety(isTransactionBlock: true), isolation: nil,
                verify: { try await self.commitMarkerWasWritten(attempt.markerID) }
            ) { connection, _, deadline in
                let marker = commitMarkers.marker(attempt.start())
                let results = try await connection.executeBatch(
                    [write, marker], resultFormat: .binary, deadline: deadline
                )
                return results[0].affectedRows ?? 0
            }
        }
        pruneCommitMarkersIfDue()
        switch completion {
        case .completed(let count): return count
        case .verifiedApplied: return 0
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
            throw error
        }
    }

    /// Whether the transaction that wrote marker `id` committed, read on whatever server the pool reaches now.
    ///
    /// Claims the id first (see ``CommitMarkers``): once the claim is in, the answer cannot change. Its queries
    /// spend the operation's budget; any failure leaves the outcome unknown.
    func commitMarkerWasWritten(_ id: String) async throws -> Bool {
        _ = try await run(commitMarkers.fence, parameters: [.text(id)], resultFormat: .text, options: .idempotent)
        let found = try await run(commitMarkers.lookup, parameters: [.text(id)], resultFormat: .text, options: .readOnly)
        guard found.rowCount == 1, let isFence = found.string(row: 0, column: 0) else {
            // Claimed a moment ago, so only a prune or an app could have removed it: nothing can be concluded.
            throw PostgresError(
                errorClass: .outcomeUnknown, reason: .outcomeUnknown, history: [], elapsed: .zero,
                lastFailure: nil, mayHaveBeenApplied: true
            )
        }
        return isFence == "f"
    }

    /// Makes sure the marker table exists, once per client: looks it up, and creates it if missing.
    ///
    /// - Throws: ``PostgresError`` when the table is missing and cannot be created (a role without `CREATE` on its
    ///   schema), its last failure saying so and giving the definition, or when the configured name is not valid.
    func prepareCommitMarkers() async throws {
        guard !commitMarkers.tableIsReady else { return }
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
        if try await !commitMarkerTableExists() {
            do {
                _ = try await run(commitMarkers.definition, parameters: [], resultFormat: .text, options: .idempotent)
                logger.notice("created the commit marker table", metadata: ["postgres.table": "\(table)"])
            } catch var error as PostgresError {
                // Created at the same moment by another operation or process (two creations of one table race
                // in the catalog): it is there now.
                if try await commitMarkerTableExists() { return commitMarkers.tableFound(at: clock.now) }
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
        }
        commitMarkers.tableFound(at: clock.now)
    }

    private func commitMarkerTableExists() async throws -> Bool {
        let exists = try await run(
            CommitMarkers.existence, parameters: [.text(commitMarkers.table)], resultFormat: .text, options: .readOnly
        )
        return exists.string(row: 0, column: 0) == "t"
    }

    private func markerTableError(_ failure: TransportError, _ message: String) -> PostgresError {
        var failure = failure
        failure.message = message
        failure.hint = "Create it once, as a role that may: \(commitMarkers.definition)"
        return PostgresError(
            errorClass: .permanent, reason: .permanent, history: [], elapsed: .zero, lastFailure: failure,
            mayHaveBeenApplied: false
        )
    }

    /// Deletes old markers in the background when a prune is due: a batch at a time, each its own short
    /// transaction skipping rows others hold, so that it never holds locks for long, until a batch finds fewer than
    /// it may delete. A failure is left for the next prune.
    private func pruneCommitMarkersIfDue() {
        guard commitMarkers.claimPrune(at: clock.now) else { return }
        Task.detached { [self] in
            do {
                while true {
                    let pruned = try await run(
                        commitMarkers.prune, parameters: [.text(commitMarkers.retentionSeconds)], resultFormat: .text,
                        options: .idempotent
                    )
                    if (pruned.affectedRows ?? 0) < CommitMarkers.pruneBatch { break }
                }
            } catch {
                logger.debug("pruning commit markers failed", metadata: ["postgres.error": "\(type(of: error))"])
            }
        }
    }
}
