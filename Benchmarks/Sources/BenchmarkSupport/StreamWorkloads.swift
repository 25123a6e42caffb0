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
            // Written in place, as the C baseline writes its buffer.
            return [UInt8](unsafeUninitializedCapacity: StreamWorkloads.chunkSize + 64) { buffer, written in
                written = 0
                while nextID <= count, written < StreamWorkloads.chunkSize {
                    written += Self.writeRow(nextID, to: buffer.baseAddress! + written)
                    nextID += 1
                }
            }
        }

        /// Writes `id\trow id\n` at `out` (room for 64 bytes); returns the bytes written.
        static func writeRow(_ id: Int, to out: UnsafeMutablePointer<UInt8>) -> Int {
            var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
            return withUnsafeMutableBytes(of: &digits) { digits in
                var remaining = id
                var count = 0
                repeat {
                    digits[19 - count] = UInt8(ascii: "0") + UInt8(remaining % 10)
                    remaining /= 10
                    count += 1
                } while remaining > 0
                let number = UnsafeRawBufferPointer(rebasing: digits[(20 - count)..<20])
                var at = out
                UnsafeMutableRawPointer(at).copyMemory(from: number.baseAddress!, byteCount: count)
                at += count
                for byte in "\trow ".utf8 {
                    at.pointee = byte
                    at += 1
                }
                UnsafeMutableRawPointer(at).copyMemory(from: number.baseAddress!, byteCount: count)
                at += count
                at.pointee = UInt8(ascii: "\n")
                return at + 1 - out
            }
        }
    }
}
