import PostgresPolicy
import PostgresTransport
import ResilientPostgres
import Testing

extension PrimaryStandbyTests {
    /// Kills the primary the way a crash does, promotes the standby, then fails back with the scripts the failover
    /// soak test uses; a transaction block started during the outage commits on the promoted standby.
    @Test func failoverToThePromotedStandbyAndBack() async throws {
        let table = IntegrationServers.unique("failover")
        let client = Self.client(ports: [Self.primaryPort, Self.standbyPort])
        try await withCleanup {
            try await client.execute("CREATE TABLE \(unsafeRaw: table) (id int PRIMARY KEY)")
            try await client.execute("INSERT INTO \(unsafeRaw: table) VALUES (\(1))")
            try await Self.waitUntilStandbyHas(1, rowsOf: table)

            try await Servers.cluster("stop", "primary", "immediate")

            if IntegrationServers.bouncerInFrontOfPrimary {
                // pgbouncer in front of the dead primary refuses by itself: nothing reached a server.
                let pooled = Self.pooledClient { $0.retryPolicy.maxAttempts = 1 }
                let refusal = await #expect(throws: PostgresError.self) {
                    try await pooled.query("SELECT 1", options: .readOnly)
                }
                #expect(refusal?.errorClass.isTransient == true)
                #expect(refusal?.mayHaveBeenApplied == false)
                await pooled.shutdown()
            }

            // Started while no host accepts writes; the client retries until the standby is promoted.
            async let committed: Void = client.transaction { tx in
                try await tx.execute("INSERT INTO \(unsafeRaw: table) VALUES (\(2))")
            }
            try await Servers.cluster("promote", "standby")
            try await committed

            let (inRecovery, port) = try await Self.whereIs(client)
            #expect(!inRecovery)
            #expect(port == Self.standbyPort)
        } cleanup: {
            await client.shutdown()
            try await Self.failBack()
        }

        // Failed back: the primary has both rows (the second came from the promoted standby), and pgbouncer in
        // front of it works again once it can log in to the primary.
        let restored = Self.client(ports: [Self.standbyPort, Self.primaryPort])
        #expect(try await Self.whereIs(restored).port == Self.primaryPort)
        let ids = try await restored.query("SELECT id FROM \(unsafeRaw: table) ORDER BY id", options: .readOnly)
        #expect(try ids.decode(Int.self) == [1, 2])
        try await restored.execute("DROP TABLE \(unsafeRaw: table)")
        await restored.shutdown()

        if IntegrationServers.bouncerInFrontOfPrimary {
            let pooled = Self.pooledClient()
            #expect(try await pooled.query("SELECT 1::int8", options: .readOnly).decode(Int.self) == [1])
            await pooled.shutdown()
        }
    }

    /// Puts `primary` and `standby` back in their roles and on their ports, from wherever a failover left them: the
    /// standby promoted (if not already), the old primary rebuilt as its standby and promoted in turn, and the
    /// standby rebuilt from it.
    static func failBack() async throws {
        try await Servers.cluster("promote", "standby")
        try await Servers.cluster("start-standby", "primary", "standby")
        try await Servers.cluster("stop", "standby", "immediate")
        try await Servers.cluster("promote", "primary")
        try await Servers.cluster("start-standby", "standby", "primary")
    }
}
