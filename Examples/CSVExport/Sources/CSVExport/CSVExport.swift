import Foundation
import ItemsExport
import ResilientPostgres

/// Writes the `items` table to standard output as CSV, resuming after the last row written if a failover ends the
/// stream; reports what happened on standard error.
///
/// Where the database is comes from the first argument (a libpq connection string or a `postgresql://` URL) or,
/// without one, from libpq's environment variables.
@main
struct CSVExport {
    static func main() async throws {
        let client = PostgresClient(configuration: try .init(CommandLine.arguments.dropFirst().first ?? ""))
        let output = FileHandle.standardOutput
        do {
            let summary = try await ItemsExport(client: client).run { line in
                try output.write(contentsOf: Array(line.utf8))
            }
            let report = "exported \(summary.rows) rows, resumed \(summary.interruptions.count) times\n"
            try FileHandle.standardError.write(contentsOf: Array(report.utf8))
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
    }
}
