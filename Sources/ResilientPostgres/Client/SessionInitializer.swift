import PostgresPolicy
import PostgresTransport
import Synchronization

/// The app's set-up of a session (``PostgresClient/Configuration/sessionInitializer``), run by the pool on every
/// session it opens before anything else uses it, and again after every reset of one.
struct SessionInitializer: Sendable {
    let body: @Sendable (PostgresConnection) async throws -> Void
    let statementCaching: PostgresClient.StatementCaching
    /// Whether a run has prepared named statements of its own (SQL `PREPARE`): a reset must then deallocate them
    /// before the initializer runs again, or its `PREPARE` would fail with 42P05 and the session be closed.
    private let prepares = PreparesFlag()

    init(body: @escaping @Sendable (PostgresConnection) async throws -> Void, statementCaching: PostgresClient.StatementCaching) {
        self.body = body
        self.statementCaching = statementCaching
    }

    /// Whether a reset before the next run must deallocate prepared statements.
    var preparesStatements: Bool { prepares.isSet }

    /// Sets `connection` up by `deadline`.
    ///
    /// Its statements are recorded apart from any operation's, so they never count as work of an operation that
    /// may have taken effect. A session it leaves inside a transaction block (or broken, having swallowed the
    /// error) is refused: no operation must start there.
    ///
    /// - Throws: a statement's `TransportError`, its phase made ``FailureFacts/Phase/connecting``: the session was
    ///   still being opened, and nothing of any operation was sent on it, so it is classified like a failed connect
    ///   (a lost session, 57P01 or 53300 is retried; 42704 from a bad `SET` fails at once); a `TransportError`
    ///   with code `connectFailed` for a session left unusable; or the initializer's own error, unchanged.
    func run(on connection: any DatabaseConnection, deadline: ContinuousClock.Instant) async throws {
        let use = SessionUse(inTransactionBlock: false)
        let session = PostgresConnection(connection: connection, statementCaching: statementCaching, use: use)
        defer { if use.hasPreparedStatements { prepares.set() } }
        do {
            try await OperationDeadline.$offset.withValue(OffsetInstant(deadline)) { try await body(session) }
        } catch var error as TransportError {
            error.phase = .connecting
            // A statement past the deadline of a session being opened is a connect that took too long, which is
            // retried (an outage's prober goes on), not an operation's statement deadline.
            if error.code == .deadlineExceeded { error.code = .connectDeadlineExceeded }
            throw error
        }
        guard connection.isReadyForReuse else {
            throw TransportError(
                code: .connectFailed,
                message: "the session initializer left the session inside a transaction block, or broken",
                host: connection.host, port: connection.port, phase: .connecting, isConnectionUsable: false
            )
        }
    }
}

/// Set once, when an initializer's run has prepared statements.
private final class PreparesFlag: Sendable {
    private let value = Atomic(false)

    func set() { value.store(true, ordering: .relaxed) }

    var isSet: Bool { value.load(ordering: .relaxed) }
}
