import PostgresPolicy
import PostgresTransport
import Synchronization

/// What app code did with one lent session (a ``PostgresClient/withConnection(options:isolation:_:)`` or
/// ``PostgresClient/transaction(options:isolation:_:)`` closure): whether any of it may already have taken effect, and
/// whether it may have left session state behind.
///
/// Both are read from what the server answered, not from the SQL text: a statement that succeeded outside a
/// transaction block (in autocommit) committed, and so did a `COMMIT` the app sent itself; a statement whose answer
/// was lost there may have. Only `SET`, `SHOW`, `RESET` and the like are known to change no data.
final class SessionUse: Sendable {
    private struct State {
        var isInTransactionBlock: Bool
        var mayHaveTakenEffect = false
        var hasRunStatement = false
        var hasPreparedStatements = false
    }

    private let state: Mutex<State>

    /// A use starting inside a transaction block (the client sent `BEGIN`) or outside one.
    init(inTransactionBlock: Bool) {
        state = Mutex(State(isInTransactionBlock: inTransactionBlock))
    }

    /// Whether something the app sent on the session may have taken effect.
    var mayHaveTakenEffect: Bool { state.withLock { $0.mayHaveTakenEffect } }

    /// Whether the app ran a statement, so the session may hold state it set (settings, locks, temporary tables).
    var hasRunStatement: Bool { state.withLock { $0.hasRunStatement } }

    /// Whether the app prepared a named statement of its own (SQL `PREPARE`).
    var hasPreparedStatements: Bool { state.withLock { $0.hasPreparedStatements } }

    /// Records a statement that succeeded with `result`, from its command tag read in place.
    func recordSuccess(_ result: QueryResult) {
        record(result.withCommandTag { SessionCommand(utf8: $0) })
    }

    /// Records a statement that succeeded with `command`.
    func record(_ command: SessionCommand) {
        state.withLock { state in
            state.hasRunStatement = true
            switch command {
            case .begin:
                state.isInTransactionBlock = true
            case .commit:
                // `COMMIT`, `END`, `COMMIT PREPARED`: what the block did is now durable.
                state.mayHaveTakenEffect = true
                state.isInTransactionBlock = false
            case .rollback:
                // Also `ROLLBACK TO SAVEPOINT`, which stays in the block: judging it ended only errs on the side of
                // treating later statements as committed.
                state.isInTransactionBlock = false
            case .prepare:
                state.hasPreparedStatements = true
            case .prepareTransaction:
                state.mayHaveTakenEffect = true
                state.isInTransactionBlock = false
            case .changesNoData:
                break
            case .other:
                // Outside a block, a statement commits as it ends (a SELECT may call a function that writes).
                if !state.isInTransactionBlock { state.mayHaveTakenEffect = true }
            }
        }
    }

    /// Records a pipelined batch about to run: inside a block it commits nothing yet; outside one (after the app's
    /// own `COMMIT` or `ROLLBACK`), it commits as it ends.
    func recordBatch() {
        state.withLock { state in
            state.hasRunStatement = true
            if !state.isInTransactionBlock { state.mayHaveTakenEffect = true }
        }
    }

    /// Records a statement that failed with `error`.
    func recordFailure(_ error: TransportError) {
        let facts = FailureFacts(error, inHotStandby: nil)
        state.withLock { state in
            state.hasRunStatement = true
            let durableIfApplied = !state.isInTransactionBlock || error.phase == .commitInFlight
            if durableIfApplied, facts.mayHaveBeenApplied { state.mayHaveTakenEffect = true }
            // A lost session, a COMMIT in flight or one answered with ROLLBACK: the block is over either way.
            if !error.isConnectionUsable || error.phase == .commitInFlight || error.code == .commitRolledBack {
                state.isInTransactionBlock = false
            }
        }
    }
}

extension DatabaseConnection {
    /// Runs one statement of app code on a lent session, as `caching` says, and records in `use` what it did.
    ///
    /// Always inlined, as ``PostgresTransaction``'s `run` that calls it: on a session's thread, where a
    /// transaction's statements run, each async layer costs a frame and switches of executors that read the task's
    /// preference under the lock of its status.
    @inline(__always)
    func run(
        _ sql: String,
        parameters: [Parameter],
        resultFormat: ValueFormat,
        caching: PostgresClient.StatementCaching,
        recordingIn use: SessionUse
    ) async throws -> QueryResult {
        do {
            let result = try await execute(
                sql, parameters: parameters, resultFormat: resultFormat, caching: caching,
                deadline: OperationDeadline.offset
            )
            use.recordSuccess(result)
            return result
        } catch let error as TransportError {
            use.recordFailure(error)
            throw error
        }
    }
}

/// What must be undone on a session lent to app code before another operation may use it.
struct SessionReset: Sendable {
    /// Whether the app prepared named statements of its own, which the reset deallocates (with the client's own).
    var deallocatesPreparedStatements: Bool

    /// The reset a use needs, or nil when the app ran nothing on the session.
    init?(_ use: SessionUse) {
        guard use.hasRunStatement else { return nil }
        deallocatesPreparedStatements = use.hasPreparedStatements
    }
}
