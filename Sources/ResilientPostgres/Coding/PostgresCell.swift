public import PostgresTransport

/// One value of a result: a column of a row, with its type and wire format.
///
/// A cell reads the result in place; it keeps the result alive while it exists.
public struct PostgresCell: Sendable {
    let result: QueryResult
    /// The row's index in the result.
    public let rowIndex: Int
    /// The column's index in the result.
    public let columnIndex: Int

    init(result: QueryResult, row: Int, column: Int) {
        self.result = result
        self.rowIndex = row
        self.columnIndex = column
    }

    /// The column's name, as the query labelled it.
    public var columnName: String { result.columnName(columnIndex) }

    /// The column's PostgreSQL type.
    public var dataType: PostgresDataType { PostgresDataType(result.columnType(columnIndex)) }

    /// The wire format the value came in.
    public var format: ValueFormat { result.columnFormat(columnIndex) }

    /// Whether the value is SQL NULL.
    public var isNull: Bool { result.isNull(row: rowIndex, column: columnIndex) }

    /// A copy of the value's bytes, or nil for SQL NULL.
    public var bytes: [UInt8]? {
        result.withBytes(row: rowIndex, column: columnIndex) { $0.map { Array($0) } }
    }

    /// Decodes the value.
    ///
    /// - Throws: ``PostgresDecodingError`` naming this column, its type and `T`; SQL NULL into a non-optional `T`
    ///   is ``PostgresDecodingError/Code/unexpectedNull``.
    public func decode<T: PostgresDecodable>(_: T.Type = T.self) throws(PostgresDecodingError) -> T {
        let type = dataType
        let format = self.format
        let outcome = result.withBytes(row: rowIndex, column: columnIndex) { bytes -> Result<T, PostgresDecodingError> in
            do throws(PostgresDecodingError) {
                return .success(try T(postgresBytes: bytes, type: type, format: format))
            } catch {
                return .failure(
                    error.located(
                        column: columnIndex, columnName: columnName, dataType: type, format: format,
                        swiftType: T.self, value: bytes
                    )
                )
            }
        }
        return try outcome.get()
    }
}
