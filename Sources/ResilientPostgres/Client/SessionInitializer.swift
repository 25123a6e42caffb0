import PostgresTransport

/// The app's set-up of a session (``PostgresClient/Configuration/sessionInitializer``), run by the pool on every
/// session it opens before anything else uses it, and again after every reset of one.
struct SessionInitializer: Sendable {
    let body: @Sendable (PostgresConnection) async throws -> Void
    let statementCaching: PostgresClient.StatementCaching

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
        let session = PostgresConnection(
            connection: connection, statementCaching: statementCaching, use: SessionUse(inTransactionBlock: false)
        )
        do {
            try await OperationDeadline.$current.withValue(deadline) { try await body(session) }
        } catch var error as TransportError {
            error.phase = .connecting
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
