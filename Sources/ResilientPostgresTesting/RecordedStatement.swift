public import ResilientPostgres

/// One statement a test double received: its SQL, its parameters, the session it ran on, and the fault it met.
///
/// The description shows the SQL text and the parameters' types, never their values.
public struct RecordedStatement: Sendable, CustomStringConvertible {
    /// The statement's number among all the statements the double received, from 1 (`BEGIN`, `COMMIT` and the
    /// pool's empty liveness checks count too).
    public let number: Int
    /// The number of the connect that opened the session it ran on (see ``RecordedConnect/number``).
    public let connection: Int
    /// The host of that session.
    public let host: String?
    /// The SQL text, with `$1`, `$2`, ... for the parameters.
    public let sql: String
    /// The bound parameters: `parameters[0]` is `$1`.
    public let parameters: [BoundValue]
    /// When it arrived, as time since the double's clock started.
    public let time: Duration
    /// The fault it was made to meet, or nil when it was answered (or, on a ``FaultInjector``, run for real).
    public internal(set) var fault: StatementFault?

    init(
        number: Int, connection: Int, host: String?, sql: String, parameters: [BoundValue], time: Duration,
        fault: StatementFault? = nil
    ) {
        self.number = number
        self.connection = connection
        self.host = host
        self.sql = sql
        self.parameters = parameters
        self.time = time
        self.fault = fault
    }

    /// Decodes parameter `$(index + 1)`.
    ///
    /// - Throws: `PostgresDecodingError` when the value does not decode as `T`.
    public func parameter<T: PostgresDecodable>(
        _ index: Int,
        as type: T.Type = T.self
    ) throws(PostgresDecodingError) -> T {
        precondition(parameters.indices.contains(index), "the statement has \(parameters.count) parameters")
        return try parameters[index].decode(type)
    }

    /// The statement's number, session, SQL, parameter types and fault.
    public var description: String {
        var text = "#\(number) on connection \(connection): \(sql)"
        if !parameters.isEmpty { text += " [\(parameters.map(\.description).joined(separator: "; "))]" }
        if let fault { text += " -> \(fault)" }
        return text
    }
}
