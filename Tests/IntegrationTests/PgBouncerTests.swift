import PostgresPolicy
import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

/// The client through pgbouncer in transaction pooling mode, in front of the `main` cluster.
@Suite("Through pgbouncer", .capturingLogs, .enabled(if: IntegrationServers.bouncer, IntegrationServers.bouncerSkipReason))
struct PgBouncerTests {
    static var port: String { IntegrationServers.port("bouncer") ?? "6432" }

    static func client(
        _ overrides: KeyValuePairs<String, String> = [:],
        _ adjust: (inout PostgresClient.Configuration) -> Void = { _ in }
    ) -> PostgresClient {
        PostgresClient(configuration: IntegrationServers.configuration(
            IntegrationServers.appParameters(port: port, overrides), adjust
        ))
    }

    @Test func queryExecuteAndTransactionWork() async throws {
        let client = Self.client()
        let table = IntegrationServers.unique("bouncer")
        try await client.execute("CREATE TABLE \(unsafeRaw: table) (id int PRIMARY KEY, note text NOT NULL)")
        let inserted = try await client.execute(
            "INSERT INTO \(unsafeRaw: table) VALUES (\(1), \("one")), (\(2), \("two"))"
        )
        #expect(inserted == 2)

        // In transaction mode a transaction keeps one server session from BEGIN to COMMIT.
        let countInside = try await client.transaction { tx in
            try await tx.execute("UPDATE \(unsafeRaw: table) SET note = \("uno") WHERE id = \(1)")
            try await tx.execute("INSERT INTO \(unsafeRaw: table) VALUES (\(3), \("three"))")
            return try await tx.query("SELECT count(*) FROM \(unsafeRaw: table)").decode(Int.self)
        }
        #expect(countInside == [3])

        struct Abandoned: Error {}
        await #expect(throws: Abandoned.self) {
            try await client.transaction { tx in
                try await tx.execute("DELETE FROM \(unsafeRaw: table)")
                throw Abandoned()
            }
        }

        let rows = try await client.query("SELECT id, note FROM \(unsafeRaw: table) ORDER BY id", options: .readOnly)
        let decoded = try rows.decode((Int, String).self)
        #expect(decoded.map(\.0) == [1, 2, 3])
        #expect(decoded.map(\.1) == ["uno", "two", "three"])
        try await client.execute("DROP TABLE \(unsafeRaw: table)")
        await client.shutdown()
    }

    /// Named prepared statements break under transaction pooling (another client's `s1` exists, or this client's
    /// is on another server session). The client binds parameters with the unnamed statement only.
    @Test func parameterizedStatementsFromManySessionsUseOnlyUnnamedStatements() async throws {
        let client = Self.client { $0.maxConnections = 6 }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<6 {
                group.addTask {
                    for step in 0..<20 {
                        let number = worker * 100 + step
                        let rows = try await client.query(
                            "SELECT \(number) + 1, \("text \(number)")::text, \(Double(number) / 2)", options: .readOnly
                        )
                        let (next, text, half) = try #require(try rows.decode((Int, String, Double).self).first)
                        #expect(next == number + 1)
                        #expect(text == "text \(number)")
                        #expect(half == Double(number) / 2)
                    }
                }
            }
            try await group.waitForAll()
        }
        let prepared = try await client.query("SELECT count(*) FROM pg_prepared_statements", options: .readOnly)
        #expect(try prepared.decode(Int.self) == [0])
        await client.shutdown()
    }

    @Test func unknownDatabaseIsPermanentAtOnce() async throws {
        let client = Self.client(["dbname": "nodb"])
        let error = await #expect(throws: PostgresError.self) {
            try await client.query("SELECT 1", options: .readOnly)
        }
        #expect(error?.errorClass == .permanent)
        #expect(error?.attempts == 1)
        #expect(error?.lastFailure?.message.contains("no such database") == true)
        await client.shutdown()
    }

    @Test func wrongPasswordIsPermanentAtOnce() async throws {
        let client = Self.client(["password": "not-the-password"])
        let error = await #expect(throws: PostgresError.self) {
            try await client.query("SELECT 1", options: .readOnly)
        }
        #expect(error?.errorClass == .permanent)
        #expect(error?.attempts == 1)
        #expect(error?.lastFailure?.message.contains("authentication failed") == true)
        await client.shutdown()
    }
}
