/// What the streaming workloads of every system share: their SQL, and the COPY data, made the same way by the Swift
/// systems as the C baseline makes it.
public enum StreamWorkloads {
    /// The query `stream_rows` and `stream_rss` stream, for `$1` rows: (int4, text of 100 bytes).
    public static let rowsSQL = "SELECT i, repeat('x', 100) FROM generate_series(1, $1::int4) AS i"

    /// The statements that make an empty `bench_copy`, untimed, before each `copy_in`.
    public static let copyTableSQL = [
        "SET client_min_messages = warning",
        "DROP TABLE IF EXISTS bench_copy",
        "CREATE TABLE bench_copy (id int8 NOT NULL, name text NOT NULL)",
    ]

    /// The COPY statement of `copy_in`.
    public static let copySQL = "COPY bench_copy (id, name) FROM STDIN"

    /// The size a chunk of COPY data grows to before it is sent.
    public static let chunkSize = 64 * 1024

    /// The sum of ids 1...`count`, which a stream must reproduce.
    public static func idSum(_ count: Int) -> Int { count * (count + 1) / 2 }
}

/// The text-format COPY data of `copy_in`, `id\trow id\n` for ids 1...count, made chunk by chunk as it is read.
public struct CopyTextChunks: AsyncSequence, Sendable {
    public typealias Element = [UInt8]

    let count: Int

    /// The data of `count` rows.
    public init(count: Int) {
        self.count = count
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(count: count)
    }

    /// Makes the next chunk when asked.
    public struct Iterator: AsyncIteratorProtocol {
        let count: Int
        var nextID = 1

        public mutating func next() async -> [UInt8]? {
            guard nextID <= count else { return nil }
            var chunk: [UInt8] = []
            chunk.reserveCapacity(StreamWorkloads.chunkSize + 64)
            while nextID <= count, chunk.count < StreamWorkloads.chunkSize {
                Self.appendRow(nextID, to: &chunk)
                nextID += 1
            }
            return chunk
        }

        /// `id\trow id\n`.
        static func appendRow(_ id: Int, to chunk: inout [UInt8]) {
            let start = chunk.count
            appendDecimal(id, to: &chunk)
            let digits = chunk[start...]
            chunk.append(UInt8(ascii: "\t"))
            chunk.append(contentsOf: "row ".utf8)
            chunk.append(contentsOf: digits)
            chunk.append(UInt8(ascii: "\n"))
        }

        static func appendDecimal(_ value: Int, to chunk: inout [UInt8]) {
            var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                          UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            var remaining = value
            var count = 0
            withUnsafeMutableBytes(of: &digits) { buffer in
                repeat {
                    buffer[19 - count] = UInt8(ascii: "0") + UInt8(remaining % 10)
                    remaining /= 10
                    count += 1
                } while remaining > 0
                chunk.append(contentsOf: buffer[(20 - count)...])
            }
        }
    }
}
