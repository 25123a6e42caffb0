import Foundation
import Hummingbird
import HummingbirdTesting
import OrdersAPI
import ResilientPostgres
import Testing

/// A schema of its own on the server `make test` starts (from the `POSTGRES_*` variables it exports), and a client
/// whose sessions use it, so that tests running in parallel never meet.
struct TestDatabase {
    static let environment = ProcessInfo.processInfo.environment
    /// Whether `make test` set the server up; why server tests are skipped when it did not.
    static let isAvailable = environment["POSTGRES_PORT"] != nil
    static let skipReason: Comment = "needs the PostgreSQL server that `make test` starts (POSTGRES_* unset)"

    /// The schema, dropped with everything in it when the test ends.
    let schema: String
    /// A client whose sessions have `search_path` set to ``schema``.
    let client: PostgresClient

    /// Runs `body` with a fresh schema and client, then drops the schema and shuts the client down.
    static func withFresh<Result>(_ body: (TestDatabase) async throws -> Result) async throws -> Result {
        let schema = "orders_test_\(UInt32.random(in: 0...UInt32.max))"
        let client = PostgresClient(configuration: PostgresClient.Configuration(connection: ConnectionParameters(options: [
            "host": environment["POSTGRES_HOST"] ?? "127.0.0.1",
            "port": environment["POSTGRES_PORT"] ?? "5432",
            "user": environment["POSTGRES_USER"] ?? "postgres",
            "dbname": environment["POSTGRES_DB"] ?? "postgres",
            "options": "-c search_path=\(schema)",
        ])))
        let database = TestDatabase(schema: schema, client: client)
        do {
            // A schema name cannot be a bound parameter; this one is made above, from digits.
            try await client.execute("CREATE SCHEMA \(unsafeRaw: schema)")
            let result = try await body(database)
            try await client.execute("DROP SCHEMA \(unsafeRaw: schema) CASCADE")
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }

    /// Runs `test` against the service's router, in process, with the orders table created as at startup.
    func testRouter<Value>(_ test: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await buildApplication(repository: OrderRepository(client: client)).test(.router, test)
    }

    /// How many rows the orders table holds under `key`.
    func rowCount(key: String) async throws -> Int {
        let rows = try await client.query("SELECT count(*) FROM shop_orders WHERE key = \(key)", options: .readOnly)
        return try rows[0].decode(Int.self, column: 0)
    }
}

extension TestClientProtocol {
    /// `PUT /orders/{key}` with `body` as JSON.
    func put(_ key: String, _ body: String) async throws -> TestResponse {
        try await execute(
            uri: "/orders/\(key)",
            method: .put,
            headers: [.contentType: "application/json"],
            body: ByteBuffer(string: body)
        )
    }

    /// `GET /orders/{key}`.
    func get(_ key: String) async throws -> TestResponse {
        try await execute(uri: "/orders/\(key)", method: .get)
    }
}

extension TestResponse {
    /// The body as text.
    var text: String { String(buffer: body) }

    /// The body decoded as an order.
    func order() throws -> Order {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(Order.self, from: Data(text.utf8))
    }
}

/// A key no other test uses.
func uniqueKey(_ prefix: String) -> String {
    "\(prefix)-\(UUID().uuidString)"
}
