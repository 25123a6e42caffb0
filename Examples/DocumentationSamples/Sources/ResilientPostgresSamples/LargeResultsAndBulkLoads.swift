import Foundation
import ResilientPostgres

/// The samples of "Large results and bulk loads", and of `rows(_:options:)`, `copyIn` and `copyOut`.
package enum LargeResultsAndBulkLoads {
    /// Prints every user, read as a stream.
    package static func printUsers(client: PostgresClient) async throws {
        for try await row in try await client.rows("SELECT id, name FROM users", options: .readOnly) {
            let (id, name) = try row.decode((Int, String).self)
            print(id, name)
        }
    }

    /// Writes every item to `file` as CSV, as the data arrives.
    package static func exportCSV(client: PostgresClient, file: FileHandle) async throws {
        for try await chunk in try await client.copyOut("COPY items TO STDOUT (FORMAT csv)", options: .readOnly) {
            try file.write(contentsOf: chunk)
        }
    }

    /// Copies three fruits from CSV.
    package static func copyFruit(client: PostgresClient) async throws -> Int {
        let lines = AsyncStream<[UInt8]> { continuation in
            continuation.yield(Array("1,apple\n2,pear\n".utf8))
            continuation.finish()
        }
        let copied = try await client.copyIn("COPY fruit (id, name) FROM STDIN (FORMAT csv)", from: lines)
        return copied
    }

    /// Copies a thousand items in the binary format.
    package static func copyItems(client: PostgresClient) async throws -> Int {
        let copied = try await client.copyIn(
            "COPY items (id, name) FROM STDIN (FORMAT binary)",
            rows: AsyncStream { continuation in
                for id in 1...1_000 { continuation.yield([id, "item \(id)"]) }
                continuation.finish()
            }
        )
        return copied
    }

    /// Loads `count` items in a transaction block, run again whole if its session is lost.
    package static func loadItems(count: Int, client: PostgresClient) async throws -> Int {
        let copied = try await client.transaction { transaction in
            try await transaction.copyIn(
                "COPY items (id, name) FROM STDIN (FORMAT binary)",
                rows: AsyncStream { continuation in
                    for id in 1...count { continuation.yield([id, "item \(id)"]) }
                    continuation.finish()
                }
            )
        }
        return copied
    }

    /// Exports every item through `write`, resuming after the last key written when the stream fails part way.
    package static func exportItems(
        client: PostgresClient, write: (Int, String) throws -> Void
    ) async throws -> Int {
        var last = 0
        var resumes = 0
        while true {
            do {
                for try await row in try await client.rows(
                    "SELECT id, name FROM items WHERE id > \(last) ORDER BY id", options: .readOnly
                ) {
                    let (id, name) = try row.decode((Int, String).self)
                    try write(id, name)
                    last = id
                }
                return last
            } catch let error as PostgresError where error.reason == .streamInterrupted && resumes < 3 {
                resumes += 1  // rows up to `last` are written: resume after it, a few times at most
            }
        }
    }
}
