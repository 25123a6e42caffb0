internal import CLibPQ

extension QueryResult {
    /// Rows read in single-row mode, gathered into one result: each row's values are copied out of its `PGresult`,
    /// which is cleared at once.
    ///
    /// libpq makes a `PGresult` of at least one 2 KiB block per row in single-row mode. Cleared as soon as it is
    /// read, that block is the next row's, as in a C loop; held for a batch, hundreds of them churn the allocator,
    /// and each would need an object of its own. Copied, a batch costs one result, and its rows' bytes.
    ///
    /// A batch is never copied: its bytes are gathered in memory it owns through a reference, which a copy would
    /// share. One batch is made, filled and turned into a result within one read of rows on the connection.
    struct RowBatch {
        private var columns: [Column] = []
        private var bytes = Gathered()
        private var cells: [CopiedValues.Cell] = []
        private(set) var rowCount = 0

        /// The bytes of values a batch has room for before it grows.
        static let initialByteCapacity = 32 * 1024
        /// The rows a batch has room for before its cells grow.
        static let initialRowCapacity = 256

        /// Copies the values of `raw`, a result of rows, and clears it.
        mutating func append(taking raw: OpaquePointer) {
            defer { PQclear(raw) }
            let rows = PQntuples(raw), columnCount = PQnfields(raw)
            if columns.isEmpty {
                // Room for a typical batch up front, rather than copies as the arrays grow.
                cells.reserveCapacity(Self.initialRowCapacity * Int(columnCount))
                columns = (0..<columnCount).map { column in
                    Column(
                        name: String(cString: PQfname(raw, column)),
                        type: PostgresOID(PQftype(raw, column)),
                        format: PQfformat(raw, column) == 1 ? .binary : .text
                    )
                }
            }
            for row in 0..<rows {
                for column in 0..<columnCount {
                    guard PQgetisnull(raw, row, column) == 0 else {
                        cells.append(CopiedValues.Cell(offset: Int32(bytes.count), length: -1))
                        continue
                    }
                    let length = PQgetlength(raw, row, column)
                    cells.append(CopiedValues.Cell(offset: Int32(bytes.count), length: length))
                    if length > 0 { bytes.append(PQgetvalue(raw, row, column), count: Int(length)) }
                }
            }
            rowCount += Int(rows)
        }

        /// The bytes gathered so far.
        var byteCount: Int { bytes.count }

        /// The rows gathered, as one result; nil when there are none.
        func result() -> QueryResult? {
            guard rowCount > 0 else { return nil }
            let stored = CopiedValues.Bytes(count: bytes.count)
            if bytes.count > 0 {
                stored.memory.baseAddress!.copyMemory(from: bytes.memory!, byteCount: bytes.count)
            }
            return QueryResult(CopiedValues(
                columns: columns, rowCount: rowCount, commandTag: "SELECT \(rowCount)", bytes: stored, cells: cells
            ))
        }

        /// The values' bytes as they are gathered: a plain copy per value into memory that grows by doubling,
        /// which an array's generic `append(contentsOf:)` costs several times over.
        private final class Gathered: @unchecked Sendable {
            // @unchecked Sendable: only the one batch that made it reads and writes it, within one call on the
            // connection that reads the rows; the result gets a copy.
            private(set) var memory: UnsafeMutableRawPointer?
            private var capacity = 0
            private(set) var count = 0

            func append(_ source: UnsafeRawPointer, count length: Int) {
                if count + length > capacity { grow(toHold: count + length) }
                (memory! + count).copyMemory(from: source, byteCount: length)
                count += length
            }

            private func grow(toHold needed: Int) {
                let capacity = max(needed, self.capacity * 2, RowBatch.initialByteCapacity)
                let grown = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 1)
                if let memory {
                    grown.copyMemory(from: memory, byteCount: count)
                    memory.deallocate()
                }
                memory = grown
                self.capacity = capacity
            }

            deinit {
                memory?.deallocate()
            }
        }
    }
}
