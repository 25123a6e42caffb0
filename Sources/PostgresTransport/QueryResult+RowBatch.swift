internal import CLibPQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension QueryResult {
    /// Rows read in single-row mode, gathered into one result: each row's values are copied out of its `PGresult`,
    /// which is cleared at once.
    ///
    /// libpq makes a `PGresult` of at least one 2 KiB block per row in single-row mode. Cleared as soon as it is
    /// read, that block is the next row's, as in a C loop; held for a batch, hundreds of them churn the allocator, and
    /// each would need an object of its own. Copied, a batch costs one result, one block of bytes (which the result
    /// takes over, shrunk to the values' size, rather than copies) and one block of cells (taken over and shrunk too).
    ///
    /// Noncopyable: the batch owns its memory, and frees what ``takeResult()`` has not handed to a result when it
    /// is dropped (after a failure, or once taken).
    struct RowBatch: ~Copyable, @unchecked Sendable {
        // @unchecked Sendable (the read loop sends the batch `inout` through `whileCancellable`): the batch is
        // noncopyable, so it has one owner at a time; its memory is reached only through it and changed only
        // through `mutating` methods, which need exclusive access; and what it hands over is the result's alone.
        private var columns: [Column] = []
        /// The values' bytes, one after the other, in memory of `malloc`'s that grows by doubling (`realloc`, which
        /// often grows in place) and is shrunk to their size when a result takes it over.
        private var memory: UnsafeMutableRawPointer?
        private var capacity = 0
        /// The bytes gathered so far.
        private(set) var byteCount = 0
        /// Where each value is in the bytes, row by row, in memory of `malloc`'s that grows by doubling (a plain
        /// store per value, which an array's append costs with a check of its uniqueness and capacity), which the
        /// result takes over with the bytes.
        private var cells: UnsafeMutablePointer<CopiedValues.Cell>?
        private var cellCapacity = 0
        private var cellCount = 0
        private(set) var rowCount = 0

        /// The bytes of values a batch has room for before it grows: a full batch of a stream's (56 KiB) and the row
        /// that fills it, unless that row is large, so that a batch is copied in place, without a `realloc` that
        /// moves it. Below 64 KiB: a block glibc's `free` neither unmaps (as it does a block of 128 KiB or more,
        /// mapped for itself) nor returns to the system by trimming its heap (as it may once a block of 64 KiB or
        /// more is freed), so that a batch reuses the pages of the batches before it rather than faulting in fresh
        /// ones. Memory not used is given back when the batch's result takes the block, shrunk in place.
        static let initialByteCapacity = 63 * 1024
        /// The rows a batch has room for before its cells grow: a full batch of a stream's, or as many as a block
        /// below 64 KiB holds (``initialCellCapacity``), as for the bytes.
        static let initialRowCapacity = 512
        /// The most cells a batch has room for before they grow, in a block below 64 KiB.
        static let initialCellCapacity = 63 * 1024 / MemoryLayout<CopiedValues.Cell>.stride

        init() {}

        deinit {
            free(memory)
            free(cells)
        }

        /// Copies the values of `raw`, a result of rows, and clears it.
        mutating func append(taking raw: OpaquePointer) {
            defer { PQclear(raw) }
            let rows = PQntuples(raw), columnCount = PQnfields(raw)
            if rowCount == 0 {
                columns = (0..<columnCount).map { column in
                    Column(
                        name: String(cString: PQfname(raw, column)),
                        type: PostgresOID(PQftype(raw, column)),
                        format: PQfformat(raw, column) == 1 ? .binary : .text
                    )
                }
            } else {
                // Every row has a cell per column of the first, or its values would be read as others'. Reads stay
                // in bounds anyway (`CopiedValues` checks the cells against the rows and columns once a batch), and
                // a stream is one statement's rows: checked in debug builds only, at no cost a row in release.
                assert(Int(columnCount) == columns.count, "a row of another statement's columns")
            }
            let cellsNeeded = cellCount + Int(rows) * Int(columnCount)
            if cellsNeeded > cellCapacity { growCells(toHold: cellsNeeded, columns: Int(columnCount)) }
            for row in 0..<rows {
                for column in 0..<columnCount {
                    // libpq gives SQL NULL a length of 0: only an empty value needs asking whether it is NULL.
                    let length = PQgetlength(raw, row, column)
                    if length > 0 {
                        addCell(CopiedValues.Cell(offset: Int32(byteCount), length: length))
                        append(PQgetvalue(raw, row, column), count: Int(length))
                    } else {
                        let isNull = PQgetisnull(raw, row, column) == 1
                        addCell(CopiedValues.Cell(offset: Int32(byteCount), length: isNull ? -1 : 0))
                    }
                }
            }
            rowCount += Int(rows)
        }

        /// The rows gathered, as one result that takes over the batch's bytes; nil when there are none. The batch
        /// is empty after.
        mutating func takeResult() -> QueryResult? {
            guard rowCount > 0 else { return nil }
            // Bytes and cells shrunk to the values' size, so that a row the app keeps holds no more than its batch's
            // values: glibc shrinks a block in place, with no copy. (A failed shrink leaves the block as it was.)
            // Rows of no columns have no cells, and empty or NULL values no bytes: the result has memory of its own
            // anyway (`realloc` of nil allocates). The cells of a full batch are left as they are.
            let bytes = memory.map { realloc($0, max(byteCount, 1)) ?? $0 } ?? malloc(1)
            let stride = MemoryLayout<CopiedValues.Cell>.stride
            let cellBlock = cellCount == cellCapacity && cellCount > 0
                ? cells.map(UnsafeMutableRawPointer.init)
                : realloc(cells, max(cellCount, 1) * stride) ?? cells.map(UnsafeMutableRawPointer.init)
            guard let bytes, let cellBlock else { fatalError("out of memory for a batch of rows") }
            let memory = CopiedValues.Memory(
                taking: bytes, cells: cellBlock.bindMemory(to: CopiedValues.Cell.self, capacity: cellCount),
                cellCount: cellCount
            )
            let result = QueryResult(CopiedValues(columns: columns, rowCount: rowCount, memory: memory))
            self.memory = nil
            self.cells = nil
            (capacity, byteCount, cellCapacity, cellCount, rowCount) = (0, 0, 0, 0, 0)
            return result
        }

        /// Appends a value's bytes: a plain copy, which an array's generic `append(contentsOf:)` costs several
        /// times over.
        private mutating func append(_ source: UnsafeRawPointer, count length: Int) {
            if byteCount + length > capacity { grow(toHold: byteCount + length) }
            (memory! + byteCount).copyMemory(from: source, byteCount: length)
            byteCount += length
        }

        /// Stores a cell; room for it was made before.
        private mutating func addCell(_ cell: CopiedValues.Cell) {
            (cells.unsafelyUnwrapped + cellCount).initialize(to: cell)
            cellCount += 1
        }

        /// Room for at least `needed` cells: a typical batch's at first, rather than copies as they grow.
        private mutating func growCells(toHold needed: Int, columns: Int) {
            let capacity = max(
                needed, cellCapacity * 2, min(Self.initialRowCapacity * columns, Self.initialCellCapacity)
            )
            guard let grown = realloc(cells, capacity * MemoryLayout<CopiedValues.Cell>.stride) else {
                fatalError("out of memory for a batch of rows")
            }
            // Cells are plain values: `realloc` moves those stored, and binding the memory is all the rest needs.
            cells = grown.bindMemory(to: CopiedValues.Cell.self, capacity: capacity)
            cellCapacity = capacity
        }

        private mutating func grow(toHold needed: Int) {
            let capacity = max(needed, self.capacity * 2, Self.initialByteCapacity)
            guard let grown = realloc(memory, capacity) else { fatalError("out of memory for a batch of rows") }
            memory = grown
            self.capacity = capacity
        }
    }
}
