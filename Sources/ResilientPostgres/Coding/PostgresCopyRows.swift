/// Rows encoded in PostgreSQL's binary COPY format (`COPY ... FROM STDIN (FORMAT binary)`), as chunks of bytes:
/// the signature and header, then each row, then the trailer. A row is its values in column order.
///
/// Each value is written by its ``PostgresEncodable`` encoding, which is binary for the library's own types. A
/// `String` is sent as its UTF-8 text, which is the binary form of `text`, `varchar` and `name` columns. The
/// columns' types must match the values' (an `Int` is an `int8`): the server rejects a row that does not.
public struct PostgresCopyRows<Rows: AsyncSequence>: AsyncSequence
where Rows.Element == [any PostgresEncodable] {
    /// A chunk of the binary COPY data.
    public typealias Element = [UInt8]

    /// The size a chunk grows to before it is handed over.
    static var chunkSize: Int { 64 * 1024 }

    let rows: Rows

    /// The rows of `rows`, encoded.
    public init(_ rows: Rows) {
        self.rows = rows
    }

    /// The chunks' iterator.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(rows: rows.makeAsyncIterator())
    }

    /// Encodes rows until a chunk is full.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var rows: Rows.AsyncIterator
        var hasStarted = false
        var isFinished = false

        /// The next chunk, or nil after the trailer.
        ///
        /// Rows that end while the task is cancelled are taken as cut short (an `AsyncStream`'s iterator returns nil
        /// then): no trailer is written, so that a cancelled load is never valid data.
        ///
        /// - Throws: what the rows' sequence or a value's encoding throws; `CancellationError` when the rows end
        ///   while the task is cancelled.
        public mutating func next() async throws -> [UInt8]? {
            guard !isFinished else { return nil }
            var chunk: [UInt8] = []
            chunk.reserveCapacity(PostgresCopyRows.chunkSize + 1024)
            if !hasStarted {
                hasStarted = true
                // "PGCOPY\n\377\r\n\0", then the flags field and the header extension's length, both 0.
                chunk.append(contentsOf: [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00])
                chunk.appendBigEndian(Int32(0))
                chunk.appendBigEndian(Int32(0))
            }
            while chunk.count < PostgresCopyRows.chunkSize {
                guard let row = try await rows.next() else {
                    try Task.checkCancellation()
                    chunk.appendBigEndian(Int16(-1))  // the trailer
                    isFinished = true
                    return chunk
                }
                try Self.append(row, to: &chunk)
            }
            return chunk
        }

        static func append(_ row: [any PostgresEncodable], to chunk: inout [UInt8]) throws {
            chunk.appendBigEndian(Int16(row.count))
            for value in row {
                try appendField(value, to: &chunk)
            }
        }

        /// One field: its length (-1 for NULL), then its bytes.
        static func appendField<Field: PostgresEncodable>(_ value: Field, to chunk: inout [UInt8]) throws {
            if value.isPostgresNull {
                chunk.appendBigEndian(Int32(-1))
                return
            }
            let lengthAt = chunk.count
            chunk.appendBigEndian(Int32(0))
            try value.encode(into: &chunk)
            let length = Int32(chunk.count - lengthAt - 4)
            withUnsafeBytes(of: length.bigEndian) { bytes in
                chunk.replaceSubrange(lengthAt..<lengthAt + 4, with: bytes)
            }
        }
    }
}
