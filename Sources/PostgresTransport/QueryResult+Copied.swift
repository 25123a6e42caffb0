internal import CLibPQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension QueryResult {
    /// The values of a small result, copied out of libpq's result so that it can be cleared at once.
    @usableFromInline
    struct CopiedValues: Sendable {
        /// The most values a result may hold to be copied.
        static let maximumCells = 64
        /// The most bytes its values may add up to.
        static let maximumBytes = 1024

        /// Where a value is in the bytes; a negative length is SQL NULL.
        @usableFromInline
        struct Cell: Sendable {
            @usableFromInline var offset: Int32
            @usableFromInline var length: Int32
        }

        let columns: [Column]
        let rowCount: Int
        let commandTag: String
        let affectedRows: Int?
        /// Every value's bytes, one after the other, row by row, and one cell per value, row by row, in memory
        /// that stays put while the values live.
        let memory: Memory

        /// Values copied elsewhere (``RowBatch``): the rows of one batch of a stream, whose statement's own tag is
        /// in its ending, not here. `memory` holds one cell per value of these rows and columns, which is what lets
        /// a value be read without a bounds check on the cells (``QueryResult/value(uncheckedRow:column:)``).
        init(columns: [Column], rowCount: Int, memory: Memory) {
            precondition(memory.cellCount == rowCount * columns.count, "a batch's cells do not match its rows")
            self.columns = columns
            self.rowCount = rowCount
            self.commandTag = "SELECT \(rowCount)"
            self.affectedRows = rowCount
            self.memory = memory
        }

        /// A copy of `raw`'s values, or nil when it is too large to be worth one; the column list and command tag of
        /// `previous` (the statement before, in a batch) are shared rather than copied again when `raw` has the same.
        ///
        /// The cells and bytes go into one block, sized by a first pass over the lengths and written in place by a
        /// second: a small result costs that block, its ``Memory`` and the result, and no array of cells.
        init?(_ raw: OpaquePointer, after previous: CopiedValues?) {
            let rowCount = Int32(PQntuples(raw)), columnCount = Int32(PQnfields(raw))
            let cellCount = Int(rowCount) * Int(columnCount)
            guard cellCount <= Self.maximumCells else { return nil }
            // libpq gives SQL NULL a length of 0, so the lengths add up to the bytes to copy.
            var byteCount = 0
            for row in 0..<rowCount {
                for column in 0..<columnCount { byteCount += Int(PQgetlength(raw, row, column)) }
            }
            guard byteCount <= Self.maximumBytes else { return nil }
            let memory = Memory(cellCount: cellCount, byteCount: byteCount)
            var cell = memory.cells
            var offset: Int32 = 0
            for row in 0..<rowCount {
                for column in 0..<columnCount {
                    let length = PQgetlength(raw, row, column)
                    if length > 0 {
                        let value = UnsafeRawPointer(PQgetvalue(raw, row, column)).unsafelyUnwrapped
                        (memory.bytes + Int(offset)).copyMemory(from: value, byteCount: Int(length))
                        cell.initialize(to: Cell(offset: offset, length: length))
                        offset += length
                    } else {
                        let isNull = PQgetisnull(raw, row, column) == 1
                        cell.initialize(to: Cell(offset: offset, length: isNull ? -1 : 0))
                    }
                    cell += 1
                }
            }
            self.columns = Self.columns(of: raw, sharing: previous?.columns)
            self.rowCount = Int(rowCount)
            self.commandTag = Self.commandTag(of: raw, sharing: previous?.commandTag)
            self.affectedRows = QueryResult.count(inDigits: PQcmdTuples(raw))
            self.memory = memory
        }

        /// `raw`'s columns: `previous` itself when they are the same (name, type and format), as a batch of one
        /// statement repeated has, so that its results share one array rather than each making its own.
        static func columns(of raw: OpaquePointer, sharing previous: [Column]?) -> [Column] {
            let count = PQnfields(raw)
            if let previous, previous.count == Int(count) {
                let same = previous.indices.allSatisfy { index in
                    let column = Int32(index)
                    guard previous[index].type == PostgresOID(PQftype(raw, column)),
                        (previous[index].format == .binary) == (PQfformat(raw, column) == 1),
                        let name = PQfname(raw, column)
                    else { return false }
                    return Self.isSame(previous[index].name, as: name)
                }
                if same { return previous }
            }
            return (0..<count).map { column in
                Column(
                    name: String(cString: PQfname(raw, column)),
                    type: PostgresOID(PQftype(raw, column)),
                    format: PQfformat(raw, column) == 1 ? .binary : .text
                )
            }
        }

        /// `raw`'s command tag: `previous` itself when it is the same, as a batch of one statement repeated has, so
        /// that its results share one string rather than each making its own from libpq's.
        static func commandTag(of raw: OpaquePointer, sharing previous: String?) -> String {
            guard let tag = PQcmdStatus(raw) else { return "" }
            if let previous, Self.isSame(previous, as: tag) { return previous }
            return String(cString: tag)
        }

        /// Whether `string` has the bytes of the NUL-terminated `cString`, compared in place.
        static func isSame(_ string: String, as cString: UnsafePointer<CChar>) -> Bool {
            // A copy to read its UTF-8 in place: `withUTF8` on an array's element would copy the array.
            var string = string
            let length = strlen(cString)
            return string.withUTF8 { utf8 in
                utf8.count == length && (length == 0 || memcmp(utf8.baseAddress!, cString, length) == 0)
            }
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
            /// One per value, row by row, from `malloc`; never nil, even with no cells.
            let cells: UnsafeMutablePointer<Cell>
            /// The values' bytes: right after the cells in their block, or a block of their own (a batch's).
            let bytes: UnsafeMutableRawPointer
            let cellCount: Int
            /// Whether ``bytes`` is a block of its own, freed apart from the cells'.
            private let bytesAreSeparate: Bool

            /// One block with room for `cellCount` cells followed by `byteCount` bytes, which the caller initializes.
            init(cellCount: Int, byteCount: Int) {
                let cellBytes = cellCount * MemoryLayout<Cell>.stride
                guard let block = malloc(max(cellBytes + byteCount, 1)) else {
                    fatalError("out of memory for a result's values")
                }
                self.cells = block.bindMemory(to: Cell.self, capacity: cellCount)
                self.bytes = block + cellBytes
                self.cellCount = cellCount
                self.bytesAreSeparate = false
            }

            /// Takes over memory allocated with `malloc` (or `realloc`): `bytes` (not nil), and `cellCount` cells
            /// initialized at `cells`, each a block of its own.
            init(taking bytes: UnsafeMutableRawPointer, cells: UnsafeMutablePointer<Cell>, cellCount: Int) {
                self.bytes = bytes
                self.cells = cells
                self.cellCount = cellCount
                self.bytesAreSeparate = true
            }

            deinit {
                free(cells)
                if bytesAreSeparate { free(bytes) }
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
