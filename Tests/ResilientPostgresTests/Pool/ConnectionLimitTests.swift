import Foundation
import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

/// A server out of connection slots (SQLSTATE 53300, "too many connections"), made with a role's connection limit so
/// that other tests sharing the server keep their slots. The server refuses with the same SQLSTATE and the same
/// FATAL at connect as when `max_connections` is reached, so the client takes the same path.
@Suite("Server out of connection slots", .capturingLogs, .enabled(if: ClientTestServer.isAvailable, ClientTestServer.skipReason))
struct ConnectionLimitTests {
    /// A role allowed `limit` sessions, and the sessions that hold them all.
    struct FullServer {
        let role: String
        let holders: [LibPQConnection]

        static func make(limit: Int) async throws -> FullServer {
            let role = ClientTestServer.uniqueTable("limited")
            let admin = try await ClientTestServer.session()
            _ = try await admin.execute("CREATE ROLE \(role) LOGIN CONNECTION LIMIT \(limit)")
            await admin.close()
            var holders: [LibPQConnection] = []
            for _ in 0..<limit {
                holders.append(try await LibPQConnection.connect(parameters(for: role)))
            }
            return FullServer(role: role, holders: holders)
        }

        static func parameters(for role: String) -> ConnectionParameters {
            var parameters = ClientTestServer.parameters
            parameters["user"] = role
            return parameters
        }

        func clientConfiguration(budget: Duration) -> PostgresClient.Configuration {
            var configuration = PostgresClient.Configuration(connection: Self.parameters(for: role))
            configuration.logger = .quiet
            configuration.retryPolicy.budget = budget
            configuration.retryPolicy.resourceLimitBackoff = .constant(.milliseconds(100))
            return configuration
        }

        func drop() async throws {
            for holder in holders { await holder.close() }
            let admin = try await ClientTestServer.session()
            _ = try await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", parameters: [.text(role)]
            )
            _ = try await admin.execute("DROP ROLE IF EXISTS \(role)")
            await admin.close()
        }
    }

    @Test func operationWaitsThenSucceedsWhenASlotFrees() async throws {
        let server = try await FullServer.make(limit: 2)
        let client = PostgresClient(configuration: server.clientConfiguration(budget: .seconds(30)))
        let operation = Task { try await client.query("SELECT current_user", options: .readOnly) }
        // The operation is refused, and the pool waits for a slot; free one.
        try await Task.sleep(for: .milliseconds(400))
        await server.holders[0].close()
        let rows = try await operation.value
        #expect(try rows.decode(String.self) == [server.role])
        await client.shutdown()
        try await server.drop()
    }

    @Test func operationFailsAtTheDeadlineNamingTheClass() async throws {
        let server = try await FullServer.make(limit: 1)
        let client = PostgresClient(configuration: server.clientConfiguration(budget: .seconds(1)))
        let error = await #expect(throws: PostgresError.self) {
            try await client.execute("SELECT 1", options: .readOnly)
        }
        #expect(error?.errorClass == .resourceLimit)
        #expect(error?.reason == .budgetExhausted)
        #expect(error?.sqlState == "53300")
        #expect(error?.lastFailure?.phase == .connecting)
        await client.shutdown()
        try await server.drop()
    }

    @Test func cancellingAnOperationWaitingForASlotEndsItAtOnce() async throws {
        let server = try await FullServer.make(limit: 1)
        let client = PostgresClient(configuration: server.clientConfiguration(budget: .seconds(30)))
        let waiting = Task { try await client.execute("SELECT 1", options: .readOnly) }
        try await Task.sleep(for: .milliseconds(400))
        let started = ContinuousClock.now
        waiting.cancel()
        let error = await #expect(throws: PostgresError.self) { try await waiting.value }
        #expect(error?.errorClass == .cancelled)
        #expect(ContinuousClock.now - started < .seconds(10))
        await client.shutdown()
        try await server.drop()
    }
}
