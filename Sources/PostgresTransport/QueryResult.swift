internal import CLibPQ
import Glibc

/// The successful result of one statement: its rows (if any), column descriptions and command tag.
///
/// Values are read in place from libpq's result, without copying. A result is immutable once complete, and libpq
/// documents that such a `PGresult` may be read from any thread; the result is freed when the last reference goes.
/// A small result of a batch is copied out instead (see `init(copyingSmall:)`), and libpq's freed at once.
public final class QueryResult: @unchecked Sendable {
    // @unchecked Sendable: a `.libpq` storage is a completed PGresult that no one mutates after this object takes
    // ownership, and libpq only reads it in the accessors below ("PGresult objects are normally read-only after
    // creation, and so can be passed around freely between threads"). It is cleared exactly once, in deinit. A
    // `.copied` storage is immutable, and so is the memory `copiedCells` and `copiedBytes` point into: written
    // before this object is made, never changed after, and kept alive by the storage as long as this object.
    private enum Storage {
        case libpq(OpaquePointer)
        case copied(CopiedValues)
    }

    private let storage: Storage
    /// The command tag of a result built without a server (libpq offers no way to set one in a `PGresult`).
    private let madeCommandTag: String?

    /// The number of rows.
    public let rowCount: Int
    /// The number of columns.
    public let columnCount: Int

    /// The types of the first ``describedColumns`` columns, and whether each is binary (bit `column`), read once
    /// when the result is made rather than asked of libpq (or of the copied columns) at each value a decode reads.
    /// A SIMD vector rather than an `InlineArray`, which needs macOS 26: the same 32 bytes held inline.
    @usableFromInline let columnTypes: SIMD8<PostgresOID>
    @usableFromInline let binaryColumns: UInt8
    /// How many columns ``columnTypes`` describes: all of them, up to 8; the storage is asked about the others.
    @usableFromInline var describedColumns: Int { min(columnCount, SIMD8<PostgresOID>.scalarCount) }
    /// A copied storage's cells and bytes (nil for libpq's), which the storage keeps alive: a value is read from
    /// them with two loads, with no array to check, by code inlined where it is decoded.
    @usableFromInline let copiedCells: UnsafePointer<CopiedValues.Cell>?
    @usableFromInline let copiedBytes: UnsafeRawPointer?

    init(taking raw: OpaquePointer, commandTag: String? = nil) {
        self.storage = .libpq(raw)
        self.madeCommandTag = commandTag
        self.rowCount = Int(PQntuples(raw))
        let columnCount = Int(PQnfields(raw))
        self.columnCount = columnCount
        var types = SIMD8<PostgresOID>()
        var binary: UInt8 = 0
        for column in 0..<min(columnCount, types.scalarCount) {
            types[column] = PostgresOID(PQftype(raw, Int32(column)))
            if PQfformat(raw, Int32(column)) == 1 { binary |= 1 << column }
        }
        self.columnTypes = types
        self.binaryColumns = binary
        self.copiedCells = nil
        self.copiedBytes = nil
    }

    /// A copy of a small result (at most ``CopiedValues/maximumCells`` values, ``CopiedValues/maximumBytes`` bytes),
    /// after which libpq's is cleared; nil for a larger one, which stays as it is.
    ///
    /// A `PGresult` costs at least one 2 KiB block of libpq's, however small: a batch of 20,000 statements would
    /// otherwise hold 40 MiB until it returns.
    ///
    /// `previous`, the result of the statement before in the batch, lends its column list when it has the same.
    convenience init?(copyingSmall raw: OpaquePointer, after previous: QueryResult? = nil) {
        guard let values = CopiedValues(raw, after: previous?.copiedValues) else { return nil }
        PQclear(raw)
        self.init(values)
    }

    init(_ values: CopiedValues) {
        self.storage = .copied(values)
        self.madeCommandTag = nil
        self.rowCount = values.rowCount
        self.columnCount = values.columns.count
        var types = SIMD8<PostgresOID>()
        var binary: UInt8 = 0
        for (column, description) in values.columns.prefix(types.scalarCount).enumerated() {
            types[column] = description.type
            if description.format == .binary { binary |= 1 << column }
        }
        self.columnTypes = types
        self.binaryColumns = binary
        self.copiedCells = UnsafePointer(values.memory.cells)
        self.copiedBytes = UnsafeRawPointer(values.memory.bytes)
    }

    /// A copied result's columns (nil for libpq's), which the next result of a batch may share.
    package var copiedColumns: [Column]? { copiedValues?.columns }

    /// A copied result's values; nil for libpq's.
    var copiedValues: CopiedValues? {
        if case .copied(let values) = storage { values } else { nil }
    }

    /// Where a copied result's cells are (nil for libpq's): for tests of the memory a result keeps.
    package var copiedCellsAddress: UnsafeRawPointer? { copiedCells.map(UnsafeRawPointer.init) }

    deinit {
        if case .libpq(let raw) = storage { PQclear(raw) }
    }

    /// The command tag, as the server sent it: `SELECT 3`, `INSERT 0 1`, `COMMIT`, `ROLLBACK`, ...
    public var commandTag: String {
        switch storage {
        case .libpq(let raw): madeCommandTag ?? String(cString: PQcmdStatus(raw))
        case .copied(let values): values.commandTag
        }
    }

    /// Calls `body` with the UTF-8 bytes of ``commandTag``, read in place from libpq's result when they are there:
    /// no `String` is made, as every statement of a transaction reads its tag.
    package func withCommandTag<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        if madeCommandTag == nil, case .libpq(let raw) = storage, let status = PQcmdStatus(raw) {
            let tag = UnsafeRawPointer(status).assumingMemoryBound(to: UInt8.self)
            return try body(UnsafeBufferPointer(start: tag, count: strlen(tag)))
        }
        var tag = commandTag
        return try tag.withUTF8(body)
    }

    /// The number of rows the statement affected (`INSERT`, `UPDATE`, `DELETE`, `MERGE`, `SELECT`, `MOVE`, `FETCH`,
    /// `COPY`), or nil for other commands. For a batch of a row stream's rows, the rows of this batch: the
    /// statement's own tag is in the stream's ending.
    public var affectedRows: Int? {
        if let madeCommandTag { return Self.affectedRows(inCommandTag: madeCommandTag) }
        switch storage {
        case .libpq(let raw): return Self.count(inDigits: PQcmdTuples(raw))
        case .copied(let values): return values.affectedRows
        }
    }

    /// The count written in `digits`, a NUL-terminated string of decimal digits (`PQcmdTuples`'s), read in place;
    /// nil when it is empty (a command that affects no rows), holds anything but digits, or does not fit an `Int`.
    package static func count(inDigits digits: UnsafePointer<CChar>) -> Int? {
        var count = 0
        var index = 0
        while digits[index] != 0 {
            let digit = Int(UInt8(bitPattern: digits[index])) - Int(UInt8(ascii: "0"))
            guard 0...9 ~= digit else { return nil }
            let (tens, overflowed) = count.multipliedReportingOverflow(by: 10)
            let (sum, overflowedAgain) = tens.addingReportingOverflow(digit)
            guard !overflowed, !overflowedAgain else { return nil }
            count = sum
            index += 1
        }
        return index == 0 ? nil : count
    }

    /// The name of a column, as the query labelled it.
    public func columnName(_ column: Int) -> String {
        precondition(column >= 0 && column < columnCount, "column \(column) out of range 0..<\(columnCount)")
        switch storage {
        case .libpq(let raw): return String(cString: PQfname(raw, Int32(column)))
        case .copied(let values): return values.columns[column].name
        }
    }

    /// The index of the column with this name, or nil. Like libpq, an unquoted name is matched case-insensitively.
    public func columnIndex(named name: String) -> Int? {
        switch storage {
        case .libpq(let raw):
            let index = PQfnumber(raw, name)
            return index < 0 ? nil : Int(index)
        case .copied(let values):
            return values.columnIndex(named: name)
        }
    }

    /// The type OID of a column (23 for `int4`, 25 for `text`, ...).
    public func columnType(_ column: Int) -> PostgresOID {
        precondition(column >= 0 && column < columnCount, "column \(column) out of range 0..<\(columnCount)")
        switch storage {
        case .libpq(let raw): return PostgresOID(PQftype(raw, Int32(column)))
        case .copied(let values): return values.columns[column].type
        }
    }

    /// The wire format of a column's values.
    public func columnFormat(_ column: Int) -> ValueFormat {
        precondition(column >= 0 && column < columnCount, "column \(column) out of range 0..<\(columnCount)")
        switch storage {
        case .libpq(let raw): return PQfformat(raw, Int32(column)) == 1 ? .binary : .text
        case .copied(let values): return values.columns[column].format
        }
    }

    /// Whether a value is SQL NULL.
    public func isNull(row: Int, column: Int) -> Bool {
        checkBounds(row: row, column: column)
        switch storage {
        case .libpq(let raw): return PQgetisnull(raw, Int32(row), Int32(column)) == 1
        case .copied(let values): return values.cell(row: row, column: column).length < 0
        }
    }

    /// Calls `body` with a value's bytes, in place, or with nil for SQL NULL. The bytes are valid only inside `body`.
    public func withBytes<Result>(
        row: Int,
        column: Int,
        _ body: (UnsafeRawBufferPointer?) throws -> Result
    ) rethrows -> Result {
        checkBounds(row: row, column: column)
        switch storage {
        case .libpq(let raw):
            if PQgetisnull(raw, Int32(row), Int32(column)) == 1 {
                return try body(nil)
            }
            let start = PQgetvalue(raw, Int32(row), Int32(column))
            let length = Int(PQgetlength(raw, Int32(row), Int32(column)))
            return try body(UnsafeRawBufferPointer(start: start, count: length))
        case .copied(let values):
            return try withExtendedLifetime(values) { try body(values.bytes(row: row, column: column)) }
        }
    }

    /// A value as a decode reads it: its bytes in place (nil for SQL NULL, valid as ``bytes(row:column:)``'s are),
    /// its column's type and its wire format, in one call: a row decoded cell by cell checks the bounds and reads
    /// the storage once per cell rather than once per fact.
    public func value(
        row: Int,
        column: Int
    ) -> (bytes: UnsafeRawBufferPointer?, type: PostgresOID, format: ValueFormat) {
        checkBounds(row: row, column: column)
        return value(uncheckedRow: row, column: column)
    }

    /// ``value(row:column:)`` without its bounds check, for a cell whose row and column the caller has already
    /// checked are in range: a row whose arity was checked once decodes each of its cells without checking the
    /// bounds again. Out of range still reads no memory outside the result: libpq checks the bounds anyway (out of
    /// range reads as SQL NULL), as do the column facts kept here and the count of a copied result's rows; a copied
    /// result has exactly one cell per row and column (`CopiedValues` checks it when it is made, once a batch), so a
    /// row and a column in range are a cell in range.
    ///
    /// Inlinable for a copied result's values (every row of a row stream's, and a batch's small results): the
    /// decode of each value then reads them with a few loads in the caller's code, with no call (always inlined:
    /// the optimizer's own measure leaves it a call from a long async loop such as a row stream's consumer).
    @inlinable @inline(__always)
    package func value(
        uncheckedRow row: Int,
        column: Int
    ) -> (bytes: UnsafeRawBufferPointer?, type: PostgresOID, format: ValueFormat) {
        // One compare rejects a negative column too: as a `UInt`, it is larger than any count.
        guard let cells = copiedCells, UInt(bitPattern: column) < UInt(describedColumns) else {
            return uninlinedValue(row: row, column: column)
        }
        precondition(UInt(bitPattern: row) < UInt(rowCount), "row \(row) out of range 0..<\(rowCount)")
        let type = columnTypes[column]
        let format: ValueFormat = binaryColumns & (1 << column) != 0 ? .binary : .text
        let cell = cells[row &* columnCount &+ column]
        guard cell.length >= 0 else { return (nil, type, format) }
        let start = copiedBytes.unsafelyUnwrapped + Int(cell.offset)
        return (UnsafeRawBufferPointer(start: start, count: Int(cell.length)), type, format)
    }

    /// ``value(uncheckedRow:column:)`` for libpq's result, or for a column after the first eight.
    @usableFromInline
    func uninlinedValue(
        row: Int,
        column: Int
    ) -> (bytes: UnsafeRawBufferPointer?, type: PostgresOID, format: ValueFormat) {
        guard UInt(bitPattern: column) < UInt(describedColumns), case .libpq(let raw) = storage else {
            return undescribedValue(row: row, column: column)
        }
        let type = columnTypes[column]
        let format: ValueFormat = binaryColumns & (1 << column) != 0 ? .binary : .text
        // libpq gives SQL NULL a length of 0: only an empty value needs asking whether it is NULL.
        let (row, column) = (Int32(truncatingIfNeeded: row), Int32(truncatingIfNeeded: column))
        let length = PQgetlength(raw, row, column)
        if length == 0, PQgetisnull(raw, row, column) == 1 { return (nil, type, format) }
        return (UnsafeRawBufferPointer(start: PQgetvalue(raw, row, column), count: Int(length)), type, format)
    }

    /// ``value(uncheckedRow:column:)`` for a column after the first eight, asking the storage for its type and format.
    private func undescribedValue(
        row: Int,
        column: Int
    ) -> (bytes: UnsafeRawBufferPointer?, type: PostgresOID, format: ValueFormat) {
        switch storage {
        case .libpq(let raw):
            // Clamped rather than truncated: a column out of range stays out of range, which libpq reads as NULL.
            let (row, column) = (Int32(clamping: row), Int32(clamping: column))
            let type = PostgresOID(PQftype(raw, column))
            let format: ValueFormat = PQfformat(raw, column) == 1 ? .binary : .text
            if PQgetisnull(raw, row, column) == 1 { return (nil, type, format) }
            let bytes = UnsafeRawBufferPointer(
                start: PQgetvalue(raw, row, column), count: Int(PQgetlength(raw, row, column))
            )
            return (bytes, type, format)
        case .copied(let values):
            let description = values.columns[column]
            return (values.bytes(row: row, column: column), description.type, description.format)
        }
    }

    /// A value's bytes, in place, or nil for SQL NULL: valid for as long as this result is alive (keep a reference
    /// to it, or use ``withBytes(row:column:_:)``). For decoding paths that must not go through a generic closure.
    public func bytes(row: Int, column: Int) -> UnsafeRawBufferPointer? {
        checkBounds(row: row, column: column)
        switch storage {
        case .libpq(let raw):
            if PQgetisnull(raw, Int32(row), Int32(column)) == 1 { return nil }
            return UnsafeRawBufferPointer(
                start: PQgetvalue(raw, Int32(row), Int32(column)),
                count: Int(PQgetlength(raw, Int32(row), Int32(column)))
            )
        case .copied(let values):
            return values.bytes(row: row, column: column)
        }
    }

    /// A value in the text format as a `String` (invalid UTF-8 is repaired), or nil for SQL NULL.
    public func string(row: Int, column: Int) -> String? {
        withBytes(row: row, column: column) { bytes in
            bytes.map { String(decoding: $0, as: UTF8.self) }
        }
    }

    private func checkBounds(row: Int, column: Int) {
        precondition(row >= 0 && row < rowCount, "row \(row) out of range 0..<\(rowCount)")
        precondition(column >= 0 && column < columnCount, "column \(column) out of range 0..<\(columnCount)")
    }
}
