import ResilientPostgres
import Testing

extension PrimaryStandbyTests {
    /// After the primary dies and the standby is promoted, the sessions on the new primary are set up as the old
    /// ones were.
    @Test func initializedSettingsHoldOnTheNewPrimaryAfterAFailover() async throws {
        let name = IntegrationServers.unique("failed_over")
        let expected = SessionInitializerTests.Settings(
            searchPath: "initialized, public", applicationName: name, tenant: "acme"
        )
        let client = Self.client(ports: [Self.primaryPort, Self.standbyPort]) {
            $0.maxConnections = 3
            $0.sessionInitializer = SessionInitializerTests.initializer(name)
        }
        try await withCleanup {
            let (before, _) = try await SessionInitializerTests.settingsOnEverySession(client, count: 3)
            #expect(before.allSatisfy { $0 == expected })
            #expect(try await Self.whereIs(client).port == Self.primaryPort)

            try await Servers.cluster("stop", "primary", "immediate")
            try await Servers.cluster("promote", "standby")
            // Sessions connect to a read-write server only: the first one that opens is on the new primary.
            let searchPath = try await client.query("SHOW search_path", options: .readOnly).decode(String.self)
            #expect(searchPath == ["initialized, public"])
            let (after, _) = try await SessionInitializerTests.settingsOnEverySession(client, count: 3)
            #expect(after.allSatisfy { $0 == expected }, "\(Set(after.map { "\($0)" }))")
            let (inRecovery, port) = try await Self.whereIs(client)
            #expect(!inRecovery)
            #expect(port == Self.standbyPort)
        } cleanup: {
            await client.shutdown()
            try await Self.failBack()
        }
    }
}
