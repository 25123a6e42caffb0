internal import CLibPQ
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension QueryResult {
    /// A column of a result made without a server.
    public struct Column: Sendable, Hashable {
        /// The column's name.
        public var name: String
        /// The column's type OID (23 for `int4`, 25 for `text`, ...).
        public var type: PostgresOID
        /// The format its values are in.
        public var format: ValueFormat

        /// A column description.
        public init(name: String, type: PostgresOID, format: ValueFormat) {
            self.name = name
            self.type = type
            self.format = format
        }
    }

    /// A result made without a server, read exactly as a server's: for test doubles that answer statements.
    ///
    /// Built with libpq's own result construction (`PQmakeEmptyPGresult`, `PQsetResultAttrs`, `PQsetvalue`), so
    /// everything that reads a result reads this one the same way.
    ///
    /// - Parameters:
    ///   - columns: the columns, in order.
    ///   - rows: each row's values in the columns' formats, `nil` for SQL NULL; every row has one value per column.
    ///   - commandTag: the tag the server would send (`SELECT 2`, `INSERT 0 1`, `UPDATE 3`); it also gives
    ///     ``affectedRows``.
    package static func make(columns: [Column], rows: [[[UInt8]?]], commandTag: String) -> QueryResult {
        QueryResult(taking: makeRaw(columns: columns, rows: rows), commandTag: commandTag)
    }

    /// Results made as a row stream makes them, without a server: each row a `PGresult` of its own, as libpq's
    /// single-row mode gives them, copied into a ``RowBatch`` whose result takes over its bytes every
    /// `batchSize` rows. For tests of that hand-over that must run without a server (and so under the sanitizers).
    package static func makeBatches(columns: [Column], rows: [[[UInt8]?]], batchSize: Int) -> [QueryResult] {
        var batch = RowBatch()
        var results: [QueryResult] = []
        for row in rows {
            batch.append(taking: makeRaw(columns: columns, rows: [row]))
            if batch.rowCount == batchSize, let result = batch.takeResult() { results.append(result) }
        }
        if let result = batch.takeResult() { results.append(result) }
        return results
    }

    /// One batch of a row stream gathered from results of these columns and rows, in turn: for tests of what a batch
    /// accepts, which must run without a server.
    package static func makeBatch(of parts: [(columns: [Column], rows: [[[UInt8]?]])]) -> QueryResult? {
        var batch = RowBatch()
        for part in parts { batch.append(taking: makeRaw(columns: part.columns, rows: part.rows)) }
        return batch.takeResult()
    }

    /// A small result copied as a batch of statements copies it (nil when too large), after the batch's previous
    /// result, whose columns it shares when they are the same: for tests that must run without a server.
    package static func makeCopied(
        columns: [Column],
        rows: [[[UInt8]?]],
        after previous: QueryResult?
    ) -> QueryResult? {
        let raw = makeRaw(columns: columns, rows: rows)
        guard let result = QueryResult(copyingSmall: raw, after: previous) else {
            PQclear(raw)
            return nil
        }
        return result
    }

    /// A `PGresult` of these rows, which the caller owns.
    private static func makeRaw(columns: [Column], rows: [[[UInt8]?]]) -> OpaquePointer {
        precondition(rows.allSatisfy { $0.count == columns.count }, "every row needs one value per column")
        let status = columns.isEmpty ? PGRES_COMMAND_OK : PGRES_TUPLES_OK
        guard let raw = PQmakeEmptyPGresult(nil, status) else { fatalError("libpq could not allocate a result") }
        if !columns.isEmpty {
            let names = columns.map { strdup($0.name) }
            defer { names.forEach { free($0) } }
            var descriptions = columns.enumerated().map { index, column in
                PGresAttDesc(
                    name: names[index], tableid: 0, columnid: 0,
                    format: column.format == .binary ? 1 : 0,
                    typid: Oid(column.type), typlen: -1, atttypmod: -1
                )
            }
            guard PQsetResultAttrs(raw, Int32(columns.count), &descriptions) == 1 else {
                fatalError("libpq could not set the result's columns")
            }
        }
        for (rowIndex, row) in rows.enumerated() {
            for (columnIndex, value) in row.enumerated() {
                // libpq copies the value; a NULL pointer with length -1 is SQL NULL.
                let stored: Int32
                if let value {
                    // An empty value still needs a non-NULL pointer, or libpq stores NULL: copy into a buffer of at
                    // least one byte and give the real length.
                    var bytes = value.map { CChar(bitPattern: $0) } + [0]
                    stored = bytes.withUnsafeMutableBufferPointer { buffer in
                        PQsetvalue(raw, Int32(rowIndex), Int32(columnIndex), buffer.baseAddress, Int32(value.count))
                    }
                } else {
                    stored = PQsetvalue(raw, Int32(rowIndex), Int32(columnIndex), nil, -1)
                }
                guard stored == 1 else { fatalError("libpq could not store a value in the result") }
            }
        }
        return raw
    }

    /// The row count in a command tag, as `PQcmdTuples` reads it: the last number of `INSERT 0 3`, the number of
    /// `UPDATE 2`, `DELETE 1`, `SELECT 5`, `MERGE 1`, `MOVE 1`, `FETCH 1` or `COPY 4`; nil for other tags.
    static func affectedRows(inCommandTag tag: String) -> Int? {
        let words = tag.split(separator: " ")
        guard let verb = words.first, let last = words.last, words.count >= 2 else { return nil }
        switch verb {
        case "INSERT" where words.count == 3, "UPDATE", "DELETE", "SELECT", "MERGE", "MOVE", "FETCH", "COPY":
            return Int(last)
        default:
            return nil
        }
    }
}
