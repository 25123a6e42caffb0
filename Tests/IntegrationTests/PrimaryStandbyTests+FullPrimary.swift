import PostgresPolicy
import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

extension PrimaryStandbyTests {
    /// The primary, listed before the standby, is out of connection slots for the role (53300): the connect reports
    /// that, and not the standby's "session is read-only" that libpq found after it. A read-only host would send the
    /// client looking for another primary and reconnecting at once; a full one is back-pressure to wait out.
    @Test func aFullPrimaryListedFirstIsReportedFullNotReadOnly() async throws {
        let role = IntegrationServers.unique("one_slot")
        let admin = try await IntegrationServers.superuserSession(port: Self.primaryPort)
        _ = try await admin.execute("CREATE ROLE \(role) LOGIN CONNECTION LIMIT 1")
        var holder: LibPQConnection?
        try await withCleanup {
            try await Self.waitUntilStandbyKnows(role: role)
            holder = try await LibPQConnection.connect(
                IntegrationServers.appParameters(port: Self.primaryPort, ["user": role]), timeout: .seconds(10)
            )
            var parameters = IntegrationServers.appParameters(
                port: "\(Self.primaryPort),\(Self.standbyPort)", ["user": role, "target_session_attrs": "read-write"]
            )
            parameters["host"] = "127.0.0.1,127.0.0.1"
            let failure = await #expect(throws: TransportError.self) {
                try await LibPQConnection.connect(parameters, timeout: .seconds(10)).close()
            }
            #expect(failure?.sqlState == .tooManyConnections)

            let client = Self.client(ports: [Self.primaryPort, Self.standbyPort], ["user": role]) {
                $0.retryPolicy.budget = .seconds(3)
            }
            let error = await #expect(throws: PostgresError.self) { try await client.execute("SELECT 1") }
            #expect(error?.errorClass == .resourceLimit)
            #expect(error?.history.allSatisfy { $0.errorClass == .resourceLimit } == true)
            await client.shutdown()
        } cleanup: {
            await holder?.close()
            _ = try? await admin.execute("DROP ROLE IF EXISTS \(role)")
            await admin.close()
        }
    }

    /// Waits until the standby has replayed the creation of `role` (30 s at most: the machine may be busy).
    static func waitUntilStandbyKnows(role: String) async throws {
        let standby = try await IntegrationServers.superuserSession(port: standbyPort)
        var known = false
        for _ in 0..<600 where !known {
            let result = try? await standby.execute("SELECT count(*) FROM pg_roles WHERE rolname = '\(role)'")
            known = result?.string(row: 0, column: 0) == "1"
            if !known { try await Task.sleep(for: .milliseconds(50)) }
        }
        await standby.close()
        #expect(known, "the standby did not replay the creation of role \(role)")
    }
}
