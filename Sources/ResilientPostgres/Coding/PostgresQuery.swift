package import PostgresTransport

/// A SQL statement with its parameters bound, never spliced into the text.
///
/// Write it as a string literal; each interpolated value becomes a parameter (`$1`, `$2`, ...):
/// ```swift
/// let query: PostgresQuery = "SELECT * FROM users WHERE id = \(id) AND name = \(name)"
/// // query.sql == "SELECT * FROM users WHERE id = $1 AND name = $2"
/// ```
/// Only ``PostgresEncodable`` values interpolate; an `Optional` binds NULL when nil. Interpolating a value whose
/// encoding can throw (``PostgresJSON``) makes the literal throwing. To splice text into the SQL itself (an
/// identifier chosen by the program, never by a user), interpolate `\(unsafeRaw: name)`.
public struct PostgresQuery: Sendable, Hashable {
    /// The SQL text, with `$1`, `$2`, ... for the parameters.
    public var sql: String
    /// The bound values, in order: `parameters[0]` is `$1`.
    package var parameters: [Parameter]

    /// A statement from SQL text used as is, with no parameters.
    ///
    /// Never build `sql` from values that came from outside: interpolate them into a ``PostgresQuery`` literal.
    public init(unsafeSQL sql: String) {
        self.sql = sql
        self.parameters = []
    }

    /// A statement from SQL text used as is, with `values` bound to `$1`, `$2`, ... in order.
    ///
    /// - Throws: The first error a value's encoding throws.
    public init(unsafeSQL sql: String, binding values: [any PostgresEncodable]) throws {
        self.sql = sql
        self.parameters = try values.map { try $0.makeParameter() }
    }

    /// The number of bound parameters.
    public var parameterCount: Int { parameters.count }
}

extension PostgresQuery: ExpressibleByStringInterpolation {
    /// A statement with no parameters.
    public init(stringLiteral sql: String) {
        self.init(unsafeSQL: sql)
    }

    /// A statement whose interpolated values are bound as parameters.
    public init(stringInterpolation: StringInterpolation) {
        self.sql = stringInterpolation.sql
        self.parameters = stringInterpolation.parameters
    }

    /// Builds a ``PostgresQuery`` literal: text is kept, values become `$n` placeholders with bound parameters.
    public struct StringInterpolation: StringInterpolationProtocol {
        var sql: String
        var parameters: [Parameter]

        /// Reserves room for the literal text and the parameters.
        public init(literalCapacity: Int, interpolationCount: Int) {
            sql = ""
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
            parameters = []
            parameters.reserveCapacity(interpolationCount)
        }

        /// Appends SQL text.
        public mutating func appendLiteral(_ literal: String) {
            sql += literal
        }

        /// Binds a value as the next parameter and appends its placeholder (`$1`, `$2`, ...).
        public mutating func appendInterpolation<Value: PostgresNonThrowingEncodable>(_ value: Value) {
            parameters.append(value.makeParameter())
            appendPlaceholder()
        }

        /// Binds a value as the next parameter and appends its placeholder (`$1`, `$2`, ...).
        ///
        /// - Throws: What the value's encoding throws.
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value) throws {
            parameters.append(try value.makeParameter())
            appendPlaceholder()
        }

        /// Binds a value, or NULL when nil, as the next parameter and appends its placeholder (`$1`, `$2`, ...).
        public mutating func appendInterpolation<Value: PostgresNonThrowingEncodable>(_ value: Value?) {
            parameters.append(value.makeParameter())
            appendPlaceholder()
        }

        /// Binds a value, or NULL when nil, as the next parameter and appends its placeholder (`$1`, `$2`, ...).
        ///
        /// - Throws: What the value's encoding throws.
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value?) throws {
            parameters.append(try value.makeParameter())
            appendPlaceholder()
        }

        /// Appends text to the SQL itself, unescaped: only for trusted text such as a table name chosen by the program.
        public mutating func appendInterpolation(unsafeRaw sql: String) {
            self.sql += sql
        }

        /// Appends `$n` for the parameter just bound, in one append: a statement's first placeholders come made
        /// from a table (small strings, stored inline, so appending one copies a few bytes and allocates nothing),
        /// and only a number beyond it is formatted.
        private mutating func appendPlaceholder() {
            let number = parameters.count
            if number < Self.placeholders.count {
                sql.append(Self.placeholders[number])
            } else {
                sql.append("$" + String(number))
            }
        }

        /// `"$1"` to `"$99"`, each at the index of its number (index 0 is never used).
        private static let placeholders: [String] = (0..<100).map { "$\($0)" }
    }
}

extension PostgresQuery: CustomStringConvertible, CustomDebugStringConvertible {
    /// The SQL text; never the bound values.
    public var description: String { sql }

    /// The SQL text and the kind, type and size of each parameter; never their values.
    public var debugDescription: String {
        "PostgresQuery(\(String(reflecting: sql)), parameters: \(parameters))"
    }
}
