public import PostgresTransport

/// A value could not be decoded into the Swift type asked for.
///
/// Names the column (index and name), its PostgreSQL type and wire format, the Swift type requested and why.
/// ``description`` never shows the value itself, which may be sensitive; `String(reflecting:)` shows its first bytes.
public struct PostgresDecodingError: Error, Sendable {
    /// What kind of failure this is; compare with the static members (`error.code == .unexpectedNull`).
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case unexpectedNull, typeMismatch, outOfRange, malformedValue, invalidUTF8, unrepresentable
            case missingColumn, columnCountMismatch, unsupportedShape
        }

        private let base: Base

        /// SQL NULL was read into a non-optional type.
        public static let unexpectedNull = Code(base: .unexpectedNull)
        /// The column's PostgreSQL type cannot be decoded as the requested Swift type.
        public static let typeMismatch = Code(base: .typeMismatch)
        /// The value does not fit the requested type (`70000` into `Int16`).
        public static let outOfRange = Code(base: .outOfRange)
        /// The bytes are not a valid value of the column's type in its format.
        public static let malformedValue = Code(base: .malformedValue)
        /// Text that is not valid UTF-8 was read as a `String`.
        public static let invalidUTF8 = Code(base: .invalidUTF8)
        /// A valid value that the Swift type cannot hold: `infinity` as a `Date`, `NaN` as a `Decimal`.
        public static let unrepresentable = Code(base: .unrepresentable)
        /// The result has no column with the requested name or index.
        public static let missingColumn = Code(base: .missingColumn)
        /// A row was decoded into a tuple whose arity differs from the number of columns.
        public static let columnCountMismatch = Code(base: .columnCountMismatch)
        /// A shape this library does not decode: a multi-dimensional array, a nested `Decodable` property.
        public static let unsupportedShape = Code(base: .unsupportedShape)

        /// The code's name.
        public var description: String {
            switch base {
            case .unexpectedNull: "unexpectedNull"
            case .typeMismatch: "typeMismatch"
            case .outOfRange: "outOfRange"
            case .malformedValue: "malformedValue"
            case .invalidUTF8: "invalidUTF8"
            case .unrepresentable: "unrepresentable"
            case .missingColumn: "missingColumn"
            case .columnCountMismatch: "columnCountMismatch"
            case .unsupportedShape: "unsupportedShape"
            }
        }
    }

    /// What kind of failure this is.
    public var code: Code
    /// Why, in words that never include the value.
    public var reason: String
    /// The column's index, when known.
    public var columnIndex: Int?
    /// The column's name, when known.
    public var columnName: String?
    /// The column's PostgreSQL type, when known.
    public var dataType: PostgresDataType?
    /// The wire format the value came in, when known.
    public var format: ValueFormat?
    /// The Swift type that was requested (`Swift.Int16`), when known.
    public var swiftType: String?
    /// The value's first bytes or an underlying error, shown only by `debugDescription`.
    var debugDetail: String?

    /// An error for a decoder to throw; the row fills in the column, type, format and Swift type.
    ///
    /// - Parameters:
    ///   - code: What kind of failure it is.
    ///   - reason: Why decoding failed. Never include the value: the description is meant to be logged.
    public init(_ code: Code, reason: String) {
        self.code = code
        self.reason = reason
    }
}

extension PostgresDecodingError {
    /// Fills in what the decoder could not know: where the value came from and what was asked for.
    func located(
        column: Int?, columnName: String?, dataType: PostgresDataType?, format: ValueFormat?,
        swiftType: Any.Type, value: UnsafeRawBufferPointer?
    ) -> PostgresDecodingError {
        var error = self
        error.columnIndex = error.columnIndex ?? column
        error.columnName = error.columnName ?? columnName
        error.dataType = error.dataType ?? dataType
        error.format = error.format ?? format
        error.swiftType = error.swiftType ?? String(reflecting: swiftType)
        if error.debugDetail == nil, let value {
            error.debugDetail = "value: " + Self.preview(value)
        }
        return error
    }

    /// The first bytes: as text when they are printable UTF-8, else in hex.
    private static func preview(_ value: UnsafeRawBufferPointer) -> String {
        let limit = 64
        let shown = UnsafeRawBufferPointer(rebasing: value.prefix(limit))
        let suffix = value.count > limit ? "… (\(value.count) bytes)" : ""
        if let text = String(validating: shown, as: UTF8.self),
            !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        {
            return "\"" + text + "\"" + suffix
        }
        let digits: [Character] = Array("0123456789abcdef")
        var hex = "0x"
        for byte in shown {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0xF)])
        }
        return hex + suffix
    }
}

extension PostgresDecodingError: CustomStringConvertible, CustomDebugStringConvertible {
    /// Where and why decoding failed, without the value.
    public var description: String {
        var text = "cannot decode "
        if let columnIndex {
            text += "column \(columnIndex)"
            if let columnName { text += " \"\(columnName)\"" }
        } else if let columnName {
            text += "column \"\(columnName)\""
        } else {
            text += "value"
        }
        if let dataType { text += " of type \(dataType)" }
        if let format { text += " (\(format == .binary ? "binary" : "text"))" }
        if let swiftType { text += " as \(swiftType)" }
        return text + ": \(code): \(reason)"
    }

    /// The description, followed by the value's first bytes (may be sensitive: keep out of shared logs).
    public var debugDescription: String {
        guard let debugDetail else { return description }
        return description + "; " + debugDetail
    }
}
