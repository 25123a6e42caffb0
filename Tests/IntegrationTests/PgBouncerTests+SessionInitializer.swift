import ResilientPostgres
import Testing

extension PgBouncerTests {
    /// In transaction mode the initializer runs on each client connection to pgbouncer; pgbouncer keeps
    /// `application_name` for that connection and applies it to every server session it lends it, while a plain
    /// session `SET` stays on whichever server session it reached. `SET LOCAL` in a transaction always holds.
    @Test func theInitializerRunsAndApplicationNameFollowsEveryServerSession() async throws {
        let name = IntegrationServers.unique("bounced")
        let client = Self.client { configuration in
            configuration.maxConnections = 6
            configuration.sessionInitializer = { session in
                try await session.execute("SET application_name = '\(unsafeRaw: name)'")
            }
        }
        let names = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<6 {
                group.addTask {
                    var names: [String] = []
                    for _ in 0..<10 {
                        names += try await client.query(
                            "SELECT current_setting('application_name')", options: .readOnly
                        ).decode(String.self)
                    }
                    return names
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(names == Array(repeating: name, count: 60))

        let local = try await client.transaction { tx in
            try await tx.execute("SET LOCAL search_path TO initialized, public")
            return try await tx.query("SHOW search_path").decode(String.self)
        }
        #expect(local == ["initialized, public"])
        await client.shutdown()
    }

    /// PgBouncer refuses settings in the connection options (before 1.20, and for untracked parameters after).
    @Test func settingsInTheOptionsStartupParameterAreRefused() async throws {
        let client = Self.client(["options": "-c search_path=initialized"])
        let error = await #expect(throws: PostgresError.self) {
            try await client.query("SELECT 1", options: .readOnly)
        }
        #expect(error?.errorClass == .permanent)
        #expect(error?.attempts == 1)
        #expect(error?.lastFailure?.message.contains("unsupported startup parameter") == true)
        await client.shutdown()
    }
}
