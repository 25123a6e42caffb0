/// One statement of a batch (``LibPQConnection/executeBatch(_:resultFormat:deadline:)``): SQL text with `$1`, `$2`,
/// ... and the values bound to them.
public struct BatchStatement: Sendable, Hashable {
    /// One SQL statement, with `$1`, `$2`, ... for the parameters.
    public var sql: String
    /// The values bound to `$1`, `$2`, ...; never spliced into the SQL.
    public var parameters: [Parameter]

    /// A statement with its bound parameters.
    public init(_ sql: String, parameters: [Parameter] = []) {
        self.sql = sql
        self.parameters = parameters
    }
}

extension BatchStatement: CustomStringConvertible {
    /// The SQL text and the number of parameters; never their values.
    public var description: String {
        "BatchStatement(\(String(reflecting: sql)), \(parameters.count) parameters)"
    }
}
