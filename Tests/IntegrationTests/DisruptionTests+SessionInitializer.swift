import ResilientPostgres
import Testing

extension DisruptionTests {
    /// Every session lost in a restart is replaced by one the initializer set up: its settings hold on all of them.
    @Test func initializedSettingsHoldOnEverySessionAfterARestart() async throws {
        let name = IntegrationServers.unique("restarted")
        let expected = SessionInitializerTests.Settings(
            searchPath: "initialized, public", applicationName: name, tenant: "acme"
        )
        let client = PostgresClient(configuration: configuration {
            $0.maxConnections = 3
            $0.sessionInitializer = SessionInitializerTests.initializer(name)
        })
        try await disrupting {
            let (before, pidsBefore) = try await SessionInitializerTests.settingsOnEverySession(client, count: 3)
            #expect(before.allSatisfy { $0 == expected })
            try await Servers.cluster("restart", "storm", "fast")
            let (after, pidsAfter) = try await SessionInitializerTests.settingsOnEverySession(client, count: 3)
            #expect(after.allSatisfy { $0 == expected }, "\(Set(after.map { "\($0)" }))")
            #expect(pidsAfter.isDisjoint(with: pidsBefore))
        }
        await client.shutdown()
    }
}
