import ResilientPostgres

/// Exports the `items` table (`id int8 PRIMARY KEY, name text`) as CSV lines, in key order.
///
/// The rows are streamed (``PostgresClient/rows(_:options:)``), so memory stays flat whatever the table's size.
/// When the stream fails part way (a failover, a restart, a terminated session), the library does not retry it,
/// since rows have reached the export; the error says so, and the export asks again for the rows after the last key
/// it wrote. Ordered by a unique key, nothing is written twice and nothing is skipped.
public struct ItemsExport: Sendable {
    /// What an export did.
    public struct Summary: Sendable {
        /// The rows written.
        public var rows = 0
        /// The failures the export resumed after, in order; each says how many rows its stream had delivered.
        public var interruptions: [PostgresError] = []
    }

    /// The client the rows are read with.
    public var client: PostgresClient
    /// How many interruptions the export resumes after before it gives up and throws the last.
    public var maximumResumes: Int

    /// An export through `client`, resuming at most `maximumResumes` times.
    public init(client: PostgresClient, maximumResumes: Int = 5) {
        self.client = client
        self.maximumResumes = maximumResumes
    }

    /// Writes the header line, then a line for every item, each ending with a line feed; the stream waits while
    /// `write` does. `write` runs in the caller's isolation.
    ///
    /// - Throws: ``PostgresError`` when a stream fails before its first row (after the library's own retries), or
    ///   part way more than ``maximumResumes`` times; what `write` throws.
    public func run(
        isolation: isolated (any Actor)? = #isolation,
        write: (String) async throws -> Void
    ) async throws -> Summary {
        var summary = Summary()
        try await write("id,name\n")
        var last = Int.min
        while true {
            do {
                for try await row in try await client.rows(
                    "SELECT id, name FROM items WHERE id > \(last) ORDER BY id", options: .readOnly
                ) {
                    let (id, name) = try row.decode((Int, String).self)
                    try await write("\(id),\(CSVField(name))\n")
                    last = id
                    summary.rows += 1
                }
                return summary
            } catch let error as PostgresError where error.reason == .streamInterrupted {
                // Every row up to `last` is written: ask for those after it.
                summary.interruptions.append(error)
                if summary.interruptions.count > maximumResumes { throw error }
            }
        }
    }
}

/// A value as a CSV field (RFC 4180): quoted, with its quotes doubled, when it holds a comma, a quote or a line
/// break.
struct CSVField: CustomStringConvertible {
    let value: String

    init(_ value: String) {
        self.value = value
    }

    var description: String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return value }
        var field = "\""
        for character in value {
            field += character == "\"" ? "\"\"" : String(character)
        }
        return field + "\""
    }
}
