public import PostgresTransport

/// The rows a statement returned, read in place from its result.
///
/// ```swift
/// let pairs = try rows.decode((Int, String).self)  // [(Int, String)]
/// let users = try rows.decode(User.self)            // [User], for a Decodable User
/// ```
public struct PostgresRows: Sendable, RandomAccessCollection {
    @usableFromInline let result: QueryResult

    /// Rows of a Transport result.
    package init(_ result: QueryResult) {
        self.result = result
    }

    /// 0.
    @inlinable
    public var startIndex: Int { 0 }
    /// The number of rows.
    @inlinable
    public var endIndex: Int { result.rowCount }

    /// The row at an index in `0..<count`.
    @inlinable
    public subscript(position: Int) -> PostgresRow {
        precondition(position >= 0 && position < result.rowCount, "row \(position) out of range 0..<\(result.rowCount)")
        return PostgresRow(result: result, row: position)
    }

    /// The columns' names, in order.
    public var columnNames: [String] {
        (0..<result.columnCount).map(result.columnName)
    }

    /// The columns' PostgreSQL types, in order.
    public var columnTypes: [PostgresDataType] {
        (0..<result.columnCount).map { PostgresDataType(result.columnType($0)) }
    }

    /// The command tag, as the server sent it: `SELECT 3`, `INSERT 0 1`, `UPDATE 2`.
    public var commandTag: String { result.commandTag }

    /// The number of rows an `INSERT`, `UPDATE`, `DELETE`, `MERGE` or `SELECT` affected; nil for other commands.
    public var affectedRows: Int? { result.affectedRows }

    /// Decodes every row into a tuple of its columns, in order.
    ///
    /// - Throws: The first row's ``PostgresDecodingError``.
    @inlinable
    public func decode<each T: PostgresDecodable>(
        _ types: (repeat each T).Type
    ) throws(PostgresDecodingError) -> [(repeat each T)] {
        var decoded: [(repeat each T)] = []
        decoded.reserveCapacity(count)
        for row in self {
            decoded.append(try row.decode(types))
        }
        return decoded
    }

    /// Decodes every row of a one-column result into a type that is both ``PostgresDecodable`` and `Decodable`
    /// (`Int`, `String`, `Date`, ...) by its PostgreSQL decoding, not by `Decodable`.
    ///
    /// - Throws: The first row's ``PostgresDecodingError``.
    @inlinable
    public func decode<T: PostgresDecodable & Decodable>(_ type: T.Type) throws(PostgresDecodingError) -> [T] {
        var decoded: [T] = []
        decoded.reserveCapacity(count)
        for row in self {
            decoded.append(try row.decode(type))
        }
        return decoded
    }
}
