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
    ///
    /// The text of a short statement is gathered in bytes held inline and made into a `String` once, at the end:
    /// each append to a `String` goes through its general machinery (a uniqueness and capacity check, then the
    /// copy), which costs a statement built from a few pieces more than the one copy of each piece made here.
    /// Text longer than the inline bytes moves to a `String` and is appended to as usual.
    public struct StringInterpolation: StringInterpolationProtocol {
        var parameters: [Parameter]
        /// The text so far, once it outgrew `inline`; nil while it fits there.
        private var spilled: String?
        /// The first `inlineCount` bytes are the text so far, while `spilled` is nil.
        private var inline: InlineBytes = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        private var inlineCount = 0
        /// The room the literal asked for, reserved in `spilled` when the text moves there.
        private let expectedCount: Int

        /// Room for 128 bytes of text, which most statements written as literals fit.
        private typealias InlineBytes = (
            UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
            UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64
        )

        /// Reserves room for the parameters; the literal text and placeholders go inline while they fit.
        public init(literalCapacity: Int, interpolationCount: Int) {
            expectedCount = literalCapacity + interpolationCount * 3
            parameters = []
            parameters.reserveCapacity(interpolationCount)
        }

        /// The SQL text so far.
        var sql: String {
            if let spilled { return spilled }
            return withUnsafeBytes(of: inline) { bytes in
                String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<inlineCount]), as: UTF8.self)
            }
        }

        /// Appends SQL text.
        public mutating func appendLiteral(_ literal: String) {
            append(literal)
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
            append(sql)
        }

        /// Appends `$n` for the parameter just bound, in one append: a statement's first placeholders come made
        /// from a table (small strings, stored inline, so appending one copies a few bytes and allocates nothing),
        /// and only a number beyond it is formatted.
        private mutating func appendPlaceholder() {
            let number = parameters.count
            if number < Self.placeholders.count {
                append(Self.placeholders[number])
            } else {
                append("$" + String(number))
            }
        }

        /// Appends `text` inline while the whole text fits there, and to `spilled` from the first append that
        /// does not.
        private mutating func append(_ text: String) {
            if spilled == nil {
                var text = text
                let fitted = text.withUTF8 { utf8 in
                    guard let source = utf8.baseAddress else { return true }
                    guard inlineCount + utf8.count <= MemoryLayout<InlineBytes>.size else { return false }
                    let count = inlineCount
                    withUnsafeMutableBytes(of: &inline) { bytes in
                        (bytes.baseAddress! + count).copyMemory(from: source, byteCount: utf8.count)
                    }
                    inlineCount += utf8.count
                    return true
                }
                if fitted { return }
                var moved = String()
                moved.reserveCapacity(max(expectedCount, inlineCount + text.utf8.count))
                moved += sql
                spilled = moved
            }
            spilled!.append(text)
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
