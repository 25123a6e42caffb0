public import PostgresTransport

/// One value of a result: a column of a row, with its type and wire format.
///
/// A cell reads the result in place; it keeps the result alive while it exists.
public struct PostgresCell: Sendable {
    @usableFromInline let result: QueryResult
    /// The row's index in the result.
    public let rowIndex: Int
    /// The column's index in the result; in range, checked when the cell was made.
    public let columnIndex: Int

    @usableFromInline
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
    /// Inlinable, so that an app's decode of a known type is specialised where it is written: a row of
    /// (Int, String, Date) then costs no generic metadata lookup.
    ///
    /// - Throws: ``PostgresDecodingError`` naming this column, its type and `T`; SQL NULL into a non-optional `T`
    ///   is ``PostgresDecodingError/Code/unexpectedNull``.
    @inlinable
    public func decode<T: PostgresDecodable>(_: T.Type = T.self) throws(PostgresDecodingError) -> T {
        try result.decodeUnchecked(T.self, row: rowIndex, column: columnIndex)
    }

    /// The error of a failed decode, with the column, its type and the Swift type it was decoded into.
    @usableFromInline
    func located(_ error: PostgresDecodingError, swiftType: Any.Type, bytes: UnsafeRawBufferPointer?) -> PostgresDecodingError {
        withExtendedLifetime(result) {
            error.located(
                column: columnIndex, columnName: columnName, dataType: dataType, format: format,
                swiftType: swiftType, value: bytes
            )
        }
    }
}

extension QueryResult {
    /// Decodes the value at `row` and `column` without checking their bounds, which the caller has: the one
    /// decode of a value that rows, cells and tuples share.
    ///
    /// Inlinable down to the call of `T`'s own decode, so that it is specialised for `T` in the app's module, with
    /// no metadata lookup, no retain of the result and no second check of the bounds; always inlined, as is the
    /// read of the value, which the optimizer's own measure leaves calls from a long async loop.
    @inlinable @inline(__always)
    func decodeUnchecked<T: PostgresDecodable>(
        _: T.Type,
        row: Int,
        column: Int
    ) throws(PostgresDecodingError) -> T {
        let value = value(uncheckedRow: row, column: column)
        do throws(PostgresDecodingError) {
            // The bytes live in this result, which is kept alive until the decode is over.
            defer { withExtendedLifetime(self) {} }
            return try T(postgresBytes: value.bytes, type: PostgresDataType(value.type), format: value.format)
        } catch {
            throw PostgresCell(result: self, row: row, column: column)
                .located(error, swiftType: T.self, bytes: value.bytes)
        }
    }
}
