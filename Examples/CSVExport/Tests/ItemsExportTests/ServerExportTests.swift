import Foundation
import ItemsExport
import ResilientPostgres
import Testing

/// The export against the server `make test` starts, with its stream's server process terminated part way, as a
/// failover does.
@Suite(
    "Export against a server",
    .enabled(if: ProcessInfo.processInfo.environment["POSTGRES_PORT"] != nil,
             "needs the PostgreSQL server that `make test` starts (POSTGRES_* unset)")
)
struct ServerExportTests {
    @Test func aTerminatedStreamResumesAfterTheLastRowWritten() async throws {
        let environment = ProcessInfo.processInfo.environment
        let schema = "csv_export_\(UInt32.random(in: 0...UInt32.max))"
        let client = PostgresClient(configuration: PostgresClient.Configuration(connection: ConnectionParameters(
            options: [
                "host": environment["POSTGRES_HOST"] ?? "127.0.0.1",
                "port": environment["POSTGRES_PORT"] ?? "5432",
                "user": environment["POSTGRES_USER"] ?? "postgres",
                "dbname": environment["POSTGRES_DB"] ?? "postgres",
                "options": "-c search_path=\(schema)",
            ]
        )))
        // Rows enough (about 23 MB) that the server is still sending when its process ends: rows that all fit in
        // the sockets' buffers would let the statement end first, and the stream with it, uninterrupted.
        let count = 200_000
        let padding = String(repeating: "x", count: 100)
        do {
            // A schema name cannot be a bound parameter; this one is made above, from digits.
            try await client.execute("CREATE SCHEMA \(unsafeRaw: schema)")
            try await client.execute("CREATE TABLE items (id int8 PRIMARY KEY, name text NOT NULL)")
            try await client.execute(
                "INSERT INTO items SELECT i, 'item ' || i || ' ' || repeat('x', 100) FROM generate_series(1, \(count)) AS i"
            )

            var lines = 0
            var terminated = false
            var csv = ""
            let summary = try await ItemsExport(client: client).run { line in
                csv += line
                lines += 1
                if lines == 1_000, !terminated {
                    // The failover: the stream's server process ends while the export writes.
                    terminated = true
                    try await client.execute("""
                        SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                        WHERE query LIKE 'SELECT id, name FROM items%' AND pid <> pg_backend_pid()
                        """)
                }
            }
            #expect(csv == "id,name\n" + (1...count).map { "\($0),item \($0) \(padding)\n" }.joined())
            #expect(summary.rows == count)
            #expect(summary.interruptions.count == 1)
            #expect((summary.interruptions.first?.rowsDelivered ?? 0) >= 1_000)
            try await client.execute("DROP SCHEMA \(unsafeRaw: schema) CASCADE")
            await client.shutdown()
        } catch {
            await client.shutdown()
            throw error
        }
    }
}
