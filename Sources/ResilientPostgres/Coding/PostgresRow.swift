public import PostgresTransport

/// One row of a result.
///
/// ```swift
/// for row in rows {
///     let (id, name, email) = try row.decode((Int, String, String?).self)  // every column, in order
///     print(id, name, email ?? "no email")
/// }
/// let emails = try rows.map { try $0.decode(String?.self, column: "email") }  // one column, by name
/// ```
public struct PostgresRow: Sendable {
    @usableFromInline let result: QueryResult
    /// The row's index in the result; in range, checked when the row was made.
    public let rowIndex: Int

    @inlinable
    init(result: QueryResult, row: Int) {
        self.result = result
        self.rowIndex = row
    }

    /// The number of columns.
    @inlinable
    public var columnCount: Int { result.columnCount }

    /// The value in a column, by index. The index must be in `0..<columnCount`.
    public subscript(column index: Int) -> PostgresCell {
        precondition(index >= 0 && index < result.columnCount, "column \(index) out of range 0..<\(result.columnCount)")
        return PostgresCell(result: result, row: rowIndex, column: index)
    }

    /// The value in a column, by name, or nil when there is no such column.
    ///
    /// Like libpq, an unquoted name matches case-insensitively; write `"\"Name\""` to match case exactly.
    public subscript(column name: String) -> PostgresCell? {
        result.columnIndex(named: name).map { PostgresCell(result: result, row: rowIndex, column: $0) }
    }

    /// Decodes the value in a column, by index.
    ///
    /// - Throws: ``PostgresDecodingError``; ``PostgresDecodingError/Code/missingColumn`` when out of range.
    @inlinable
    public func decode<T: PostgresDecodable>(_: T.Type = T.self, column: Int) throws(PostgresDecodingError) -> T {
        guard column >= 0 && column < result.columnCount else {
            throw missingColumn(T.self, index: column, name: nil)
        }
        return try result.decodeUnchecked(T.self, row: rowIndex, column: column)
    }

    /// Decodes the value in a column, by name.
    ///
    /// - Throws: ``PostgresDecodingError``; ``PostgresDecodingError/Code/missingColumn`` when no column has the name.
    public func decode<T: PostgresDecodable>(_: T.Type = T.self, column: String) throws(PostgresDecodingError) -> T {
        guard let cell = self[column: column] else { throw missingColumn(T.self, index: nil, name: column) }
        return try cell.decode(T.self)
    }

    /// Decodes every column, in order, into a tuple: `try row.decode((Int, String?).self)`.
    ///
    /// - Throws: ``PostgresDecodingError``; ``PostgresDecodingError/Code/columnCountMismatch`` when the tuple's
    ///   arity is not the number of columns.
    @inlinable
    public func decode<each T: PostgresDecodable>(
        _ types: (repeat each T).Type
    ) throws(PostgresDecodingError) -> (repeat each T) {
        var arity = 0
        func count<Value>(_: Value.Type) { arity += 1 }
        repeat count((each T).self)
        guard arity == columnCount else { throw columnCountMismatch(decoding: arity) }
        var column = 0
        return (repeat try decodeNext((each T).self, column: &column))
    }

    /// Decodes the value in `column` and moves `column` on; a method rather than a closure, so that a tuple's decode
    /// is specialised for each of its element types.
    @inlinable
    func decodeNext<Value: PostgresDecodable>(
        _: Value.Type,
        column: inout Int
    ) throws(PostgresDecodingError) -> Value {
        defer { column += 1 }
        return try decodeUnchecked(Value.self, column: column)
    }

    /// Decodes the value in `column` without checking its bounds, which the caller has (a tuple's decode checks
    /// the arity once, not each cell); always inlined, as the result's decode is.
    @inlinable @inline(__always)
    func decodeUnchecked<Value: PostgresDecodable>(
        _: Value.Type,
        column: Int
    ) throws(PostgresDecodingError) -> Value {
        try result.decodeUnchecked(Value.self, row: rowIndex, column: column)
    }

    /// Decodes a one-column row into a type that is both ``PostgresDecodable`` and `Decodable` (`Int`, `String`,
    /// `Date`, ...) by its PostgreSQL decoding, not by `Decodable`.
    ///
    /// - Throws: ``PostgresDecodingError``; ``PostgresDecodingError/Code/columnCountMismatch`` unless the row has
    ///   exactly one column.
    @inlinable
    public func decode<T: PostgresDecodable & Decodable>(_ type: T.Type) throws(PostgresDecodingError) -> T {
        guard columnCount == 1 else { throw columnCountMismatch(decoding: 1) }
        return try result.decodeUnchecked(type, row: rowIndex, column: 0)
    }

    @usableFromInline
    func columnCountMismatch(decoding arity: Int) -> PostgresDecodingError {
        PostgresDecodingError(
            .columnCountMismatch,
            reason: "decoding \(arity) \(arity == 1 ? "value" : "values") from a row of \(result.columnCount) columns"
        )
    }

    @usableFromInline
    func missingColumn(_ type: Any.Type, index: Int?, name: String?) -> PostgresDecodingError {
        var error = PostgresDecodingError(
            .missingColumn, reason: "the result has no such column (it has \(result.columnCount))"
        )
        error.columnIndex = index
        error.columnName = name
        error.swiftType = String(reflecting: type)
        return error
    }
}
