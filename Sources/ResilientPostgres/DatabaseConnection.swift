public import PostgresTransport

/// The seam between the client and a connection: what retries, pooling and failover need of one session.
///
/// ``LibPQConnection`` implements it over libpq; test doubles implement it with a script. Everything above it can
/// therefore be exercised without a server. Failures are thrown as `TransportError` facts.
package protocol DatabaseConnection: AnyObject, Sendable {
    /// The host the session is on.
    var host: String? { get }
    /// The port the session is on.
    var port: Int? { get }
    /// Runs one statement with bound parameters.
    func execute(
        _ sql: String,
        parameters: [Parameter],
        resultFormat: ValueFormat,
        deadline: ContinuousClock.Instant?
    ) async throws -> QueryResult
    /// Whether the session can run a statement and is outside any transaction block.
    func isReadyForReuse() async -> Bool
    /// Whether the server reported being a hot standby, or nil if it did not say.
    func reportsHotStandby() async -> Bool?
    /// Closes the session.
    func close() async
}

/// Opens sessions for the pool.
package protocol DatabaseConnector: Sendable {
    /// Opens one session before `deadline`; throws `TransportError` facts on failure.
    func connect(deadline: ContinuousClock.Instant) async throws -> any DatabaseConnection
}

extension LibPQConnection: DatabaseConnection {
    package func isReadyForReuse() async -> Bool {
        isUsable && transactionStatus == .idle
    }

    package func reportsHotStandby() async -> Bool? {
        inHotStandby
    }
}

/// Opens libpq sessions with the client's connection parameters.
package struct LibPQConnector: DatabaseConnector {
    var parameters: ConnectionParameters
    var connectTimeout: Duration
    var options: LibPQConnection.Options

    package init(parameters: ConnectionParameters, connectTimeout: Duration, options: LibPQConnection.Options) {
        self.parameters = parameters
        self.connectTimeout = connectTimeout
        self.options = options
    }

    package func connect(deadline: ContinuousClock.Instant) async throws -> any DatabaseConnection {
        let deadline = min(deadline, .now.advanced(by: connectTimeout))
        return try await LibPQConnection.connect(parameters, deadline: deadline, options: options)
    }
}
