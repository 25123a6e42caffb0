import Foundation
import ResilientPostgres
import Testing

/// A schema of its own on the server `make test` starts (from the `POSTGRES_*` variables it exports), and a client
/// whose sessions use it, so that tests running in parallel never meet.
struct TestDatabase {
    static let environment = ProcessInfo.processInfo.environment
    /// Whether `make test` set the server up; why the tests are skipped when it did not.
    static let isAvailable = environment["POSTGRES_PORT"] != nil
    static let skipReason: Comment = "needs the PostgreSQL server that `make test` starts (POSTGRES_* unset)"

    /// Runs `body` with a client on a fresh schema, then drops the schema and shuts the client down.
    static func withFreshClient<Result>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresClient) async throws -> sending Result
    ) async throws -> sending Result {
        let schema = "accounts_test_\(UInt32.random(in: 0...UInt32.max))"
        let connection = ConnectionParameters(options: [
            "host": environment["POSTGRES_HOST"] ?? "127.0.0.1",
            "port": environment["POSTGRES_PORT"] ?? "5432",
            "user": environment["POSTGRES_USER"] ?? "postgres",
            "dbname": environment["POSTGRES_DB"] ?? "postgres",
            "options": "-c search_path=\(schema)",
        ])
        let client = PostgresClient(configuration: PostgresClient.Configuration(connection: connection))
        do {
            // A schema name cannot be a bound parameter; this one is made above, from digits.
            try await client.execute("CREATE SCHEMA \(unsafeRaw: schema)")
            let result = try await body(client)
            try await client.execute("DROP SCHEMA \(unsafeRaw: schema) CASCADE")
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }
}
