import PostgresTransport
import Synchronization

/// One pooled session, lent for the length of a ``PostgresClient/withConnection(options:_:)`` closure.
///
/// For work that needs one session: session settings (`SET`), advisory locks, temporary tables, or several
/// statements that must see each other's session state. Valid only inside that closure. Its statements throw the
/// connection's `TransportError` facts unchanged, so that the client can decide whether to run the closure again.
public struct PostgresConnection: Sendable {
    let connection: any DatabaseConnection
    let statementCaching: PostgresClient.StatementCaching
    /// Whether a statement already ran on this lease: a later failure cannot claim that nothing was sent.
    let progress = Progress()

    /// Shared by the copies of one lent connection.
    final class Progress: Sendable {
        let hasRunStatement = Atomic(false)
    }

    package func run(_ sql: String, parameters: [Parameter], resultFormat: ValueFormat) async throws -> QueryResult {
        do {
            let result = try await connection.execute(
                sql, parameters: parameters, resultFormat: resultFormat, caching: statementCaching
            )
            progress.hasRunStatement.store(true, ordering: .relaxed)
            return result
        } catch var error as TransportError {
            // An earlier statement of the closure reached the server; as far as retrying the closure goes, it was sent.
            if error.phase == .notSent, progress.hasRunStatement.load(ordering: .relaxed) { error.phase = .sent }
            progress.hasRunStatement.store(true, ordering: .relaxed)
            throw error
        }
    }

    /// Runs one statement, its interpolated values bound as parameters, and returns the number of rows it affected.
    @discardableResult
    public func execute(_ query: PostgresQuery) async throws -> Int {
        try await run(query.sql, parameters: query.parameters, resultFormat: .binary).affectedRows ?? 0
    }

    /// Runs one statement, its interpolated values bound as parameters, and returns its rows.
    public func query(_ query: PostgresQuery) async throws -> PostgresRows {
        PostgresRows(try await run(query.sql, parameters: query.parameters, resultFormat: .binary))
    }

    /// The host the session is on.
    public var host: String? { connection.host }
}

extension PostgresClient {
    /// Lends one session to `body` for work that needs a single session, retrying as `options` allow.
    ///
    /// The closure is run again from the start (on a new session) only when nothing it sent can have taken effect:
    /// when its first statement failed before reaching the server, or when `options` declare it read-only or
    /// idempotent. A failure after a statement already ran is otherwise an unknown outcome, thrown as
    /// ``PostgresError`` with ``PostgresError/mayHaveBeenApplied`` set. Session state (settings, temporary tables,
    /// advisory locks) does not survive into a new session: set it up inside the closure. A session left inside a
    /// transaction block is closed rather than reused.
    public func withConnection<Result>(
        options: OperationOptions = .write,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await withRetries(options.safety(isTransactionBlock: false)) { connection in
            try await body(PostgresConnection(connection: connection, statementCaching: configuration.statementCaching))
        }
    }
}
