internal import CLibPQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension QueryResult {
    /// The values of a small result, copied out of libpq's result so that it can be cleared at once.
    struct CopiedValues: Sendable {
        /// The most values a result may hold to be copied.
        static let maximumCells = 64
        /// The most bytes its values may add up to.
        static let maximumBytes = 1024

        /// Where a value is in the bytes; a negative length is SQL NULL.
        struct Cell: Sendable {
            var offset: Int32
            var length: Int32
        }

        let columns: [Column]
        let rowCount: Int
        let commandTag: String
        let affectedRows: Int?
        /// Every value's bytes, one after the other, row by row, and one cell per value, row by row, in memory
        /// that stays put while the values live.
        let memory: Memory

        /// Values copied elsewhere (``RowBatch``): rows a `SELECT` returned, which are the rows it affected (its
        /// command tag is not parsed for their count).
        init(columns: [Column], rowCount: Int, memory: Memory) {
            self.columns = columns
            self.rowCount = rowCount
            self.commandTag = "SELECT \(rowCount)"
            self.affectedRows = rowCount
            self.memory = memory
        }

        /// A copy of `raw`'s values, or nil when it is too large to be worth one.
        init?(_ raw: OpaquePointer) {
            let rowCount = Int(PQntuples(raw)), columnCount = Int(PQnfields(raw))
            guard rowCount * columnCount <= Self.maximumCells else { return nil }
            var cells: [Cell] = []
            cells.reserveCapacity(rowCount * columnCount)
            var total: Int32 = 0
            for row in 0..<Int32(rowCount) {
                for column in 0..<Int32(columnCount) {
                    let isNull = PQgetisnull(raw, row, column) == 1
                    let length = isNull ? -1 : PQgetlength(raw, row, column)
                    cells.append(Cell(offset: total, length: length))
                    total += max(0, length)
                }
            }
            guard total <= Self.maximumBytes else { return nil }
            let memory = Memory(byteCount: Int(total), cells: cells)
            for (index, cell) in cells.enumerated() where cell.length > 0 {
                let value = PQgetvalue(raw, Int32(index / columnCount), Int32(index % columnCount))
                (memory.bytes + Int(cell.offset)).copyMemory(from: value!, byteCount: Int(cell.length))
            }
            self.columns = (0..<Int32(columnCount)).map { column in
                Column(
                    name: String(cString: PQfname(raw, column)),
                    type: PostgresOID(PQftype(raw, column)),
                    format: PQfformat(raw, column) == 1 ? .binary : .text
                )
            }
            self.rowCount = rowCount
            self.commandTag = String(cString: PQcmdStatus(raw))
            self.affectedRows = Int(String(cString: PQcmdTuples(raw)))
            self.memory = memory
        }

        /// A value's cell; the row and column are in range.
        @inline(__always)
        func cell(row: Int, column: Int) -> Cell {
            let index = row * columns.count + column
            precondition(index >= 0 && index < memory.cellCount, "value \(index) out of range 0..<\(memory.cellCount)")
            return memory.cells[index]
        }

        /// A value's bytes, or nil for SQL NULL; valid while these values live. The row and column are in range.
        @inline(__always)
        func bytes(row: Int, column: Int) -> UnsafeRawBufferPointer? {
            let cell = cell(row: row, column: column)
            if cell.length < 0 { return nil }
            return UnsafeRawBufferPointer(start: memory.bytes + Int(cell.offset), count: Int(cell.length))
        }

        /// Memory of its own for the copied bytes and their cells, freed with the last copy of the values.
        ///
        /// Raw pointers rather than arrays, which stay put too: a value is read with a plain load through a pointer
        /// the result keeps (``QueryResult/value(uncheckedRow:column:)``), with no array to check.
        final class Memory: @unchecked Sendable {
            // @unchecked Sendable: written once, in `CopiedValues.init` or by the batch that hands it over, before
            // anyone else can see it; read only after.
            /// The values' bytes, from `malloc`; never nil, even with no bytes.
            let bytes: UnsafeMutableRawPointer
            /// One per value, row by row, from `malloc`.
            let cells: UnsafeMutablePointer<Cell>
            let cellCount: Int

            /// Room for `byteCount` bytes, and a copy of `cells`.
            init(byteCount: Int, cells: [Cell]) {
                guard let bytes = malloc(max(byteCount, 1)),
                    let stored = malloc(max(cells.count, 1) * MemoryLayout<Cell>.stride)
                else { fatalError("out of memory for a result's values") }
                self.bytes = bytes
                self.cells = stored.bindMemory(to: Cell.self, capacity: max(cells.count, 1))
                self.cells.initialize(from: cells, count: cells.count)
                self.cellCount = cells.count
            }

            /// Takes over memory allocated with `malloc` (or `realloc`): `bytes` (not nil), and `cellCount` cells
            /// initialized at `cells`.
            init(taking bytes: UnsafeMutableRawPointer, cells: UnsafeMutablePointer<Cell>, cellCount: Int) {
                self.bytes = bytes
                self.cells = cells
                self.cellCount = cellCount
            }

            deinit {
                free(bytes)
                free(cells)
            }
        }

        /// The index of the column `name` designates, as `PQfnumber` finds it: the name with its unquoted parts
        /// lower-cased (ASCII) and its quotes removed (`""` inside quotes is one `"`).
        func columnIndex(named name: String) -> Int? {
            guard !name.isEmpty else { return nil }
            var folded: [UInt8] = []
            var inQuotes = false
            var characters = name.utf8.makeIterator()
            var pending = characters.next()
            while let byte = pending {
                pending = characters.next()
                if byte == UInt8(ascii: "\"") {
                    if inQuotes, pending == UInt8(ascii: "\"") {
                        folded.append(byte)
                        pending = characters.next()
                    } else {
                        inQuotes.toggle()
                    }
                } else if !inQuotes, byte >= UInt8(ascii: "A"), byte <= UInt8(ascii: "Z") {
                    folded.append(byte + 32)
                } else {
                    folded.append(byte)
                }
            }
            let target = String(decoding: folded, as: UTF8.self)
            return columns.firstIndex { $0.name == target }
        }
    }
}
