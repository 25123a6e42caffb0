/// Which statements a script rule applies to: by SQL text, or by any test of the statement and its parameters.
///
/// A string literal matches statements that start with it (leading whitespace ignored), so
/// `"INSERT INTO payments"` matches every insert into that table whatever its columns.
public struct StatementMatcher: Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    private let test: @Sendable (RecordedStatement) -> Bool
    /// What the matcher matches, for descriptions.
    public let description: String
    /// The SQL a matcher made by ``sql(_:)`` matches exactly; nil for the others.
    let exactSQL: String?

    private init(
        _ description: String,
        exactSQL: String? = nil,
        _ test: @escaping @Sendable (RecordedStatement) -> Bool
    ) {
        self.description = description
        self.exactSQL = exactSQL
        self.test = test
    }

    /// Matches statements that start with `prefix`, ignoring leading whitespace.
    public init(stringLiteral prefix: String) {
        self = .prefix(prefix)
    }

    /// Whether `statement` matches.
    public func matches(_ statement: RecordedStatement) -> Bool {
        test(statement)
    }

    /// Matches statements whose SQL is exactly `sql`, ignoring leading and trailing whitespace.
    public static func sql(_ sql: String) -> StatementMatcher {
        let expected = sql.trimmingWhitespace()
        return StatementMatcher("sql \(expected)", exactSQL: expected) { $0.sql.trimmingWhitespace() == expected }
    }

    /// Matches statements that start with `prefix`, ignoring leading whitespace.
    public static func prefix(_ prefix: String) -> StatementMatcher {
        StatementMatcher("prefix \(prefix)") { $0.sql.drop(while: \.isWhitespace).hasPrefix(prefix) }
    }

    /// Matches statements whose SQL contains `fragment`.
    public static func containing(_ fragment: String) -> StatementMatcher {
        StatementMatcher("containing \(fragment)") { $0.sql.contains(fragment) }
    }

    /// Matches the statements `predicate` accepts; it sees the SQL and the bound parameters.
    public static func matching(_ predicate: @escaping @Sendable (RecordedStatement) -> Bool) -> StatementMatcher {
        StatementMatcher("a predicate", predicate)
    }

    /// Matches every statement, including `BEGIN`, `COMMIT` and the pool's empty liveness check.
    public static let any = StatementMatcher("any statement") { _ in true }
}

extension String {
    func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
