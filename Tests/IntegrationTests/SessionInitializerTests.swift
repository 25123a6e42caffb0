import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

/// The session initializer on the `main` cluster: its settings hold on every session, even after a lease's reset;
/// a failing one is classified and leaves no session behind; and the default `application_name`.
@Suite(
    "Session initializer on a server", .capturingLogs,
    .enabled(if: IntegrationServers.main, IntegrationServers.mainSkipReason)
)
struct SessionInitializerTests {
    static var port: String { IntegrationServers.port("main") ?? "5432" }

    /// What an initialized session shows.
    struct Settings: Equatable {
        var searchPath: String
        var applicationName: String
        var tenant: String
    }

    /// The initializer the tests share: a `search_path`, an `application_name` and a custom setting.
    static func initializer(_ applicationName: String) -> @Sendable (PostgresConnection) async throws -> Void {
        { session in
            try await session.execute("SET search_path TO initialized, public")
            try await session.execute("SELECT set_config('application_name', \(applicationName), false)")
            try await session.execute("SET app.tenant = 'acme'")
        }
    }

    /// The settings of the session a query gets, and its server process.
    static func settings(_ client: PostgresClient) async throws -> (Settings, Int) {
        let rows = try await client.query("""
            SELECT current_setting('search_path'), current_setting('application_name'),
                current_setting('app.tenant', true), pg_backend_pid()
            """, options: .readOnly)
        let (searchPath, name, tenant, pid) = try #require(try rows.decode((String, String, String?, Int).self).first)
        return (Settings(searchPath: searchPath, applicationName: name, tenant: tenant ?? ""), pid)
    }

    /// Reads the settings from `count` sessions at once, as many times over; returns them and the sessions' pids.
    static func settingsOnEverySession(_ client: PostgresClient, count: Int) async throws -> ([Settings], Set<Int>) {
        try await withThrowingTaskGroup(of: [(Settings, Int)].self) { group in
            for _ in 0..<count {
                group.addTask { try await (0..<10).asyncMap { _ in try await settings(client) } }
            }
            let seen = try await group.reduce(into: []) { $0 += $1 }
            return (seen.map(\.0), Set(seen.map(\.1)))
        }
    }

    /// An initializer that prepares a statement runs again after a lease's reset on the same session: the reset
    /// deallocates its statement first, so its `PREPARE` does not fail with 42P05 and close the session.
    @Test func anInitializerThatPreparesKeepsItsSessionAcrossLeases() async throws {
        let client = PostgresClient(configuration: IntegrationServers.configuration(
            IntegrationServers.appParameters(port: Self.port)
        ) {
            $0.maxConnections = 1
            $0.sessionInitializer = { session in try await session.execute("PREPARE initialized_one AS SELECT 1") }
        })
        var pids: Set<Int> = []
        for _ in 0..<3 {
            let pid = try await client.withConnection { connection in
                try await connection.execute("SET work_mem = '8MB'")
                let rows = try await connection.query("EXECUTE initialized_one")
                #expect(try rows.decode(Int.self) == [1])
                return try await connection.query("SELECT pg_backend_pid()").decode(Int.self)[0]
            }
            pids.insert(pid)
        }
        #expect(pids.count == 1)
        await client.shutdown()
    }

    @Test func settingsHoldOnEverySessionAndAfterALeasesReset() async throws {
        let name = IntegrationServers.unique("initialized")
        let expected = Settings(searchPath: "initialized, public", applicationName: name, tenant: "acme")
        let client = PostgresClient(configuration: IntegrationServers.configuration(
            IntegrationServers.appParameters(port: Self.port)
        ) {
            $0.maxConnections = 3
            $0.sessionInitializer = Self.initializer(name)
        })
        let (seen, _) = try await Self.settingsOnEverySession(client, count: 3)
        #expect(seen.allSatisfy { $0 == expected }, "\(Set(seen.map { "\($0)" }))")

        // A lease changes every setting; the reset undoes that and the initializer's, which then runs again.
        try await client.withConnection { connection in
            try await connection.execute("SET search_path TO public")
            try await connection.execute("SET application_name = 'changed'")
            try await connection.execute("SET app.tenant = 'other'")
        }
        let (afterReset, _) = try await Self.settingsOnEverySession(client, count: 3)
        #expect(afterReset.allSatisfy { $0 == expected }, "\(Set(afterReset.map { "\($0)" }))")
        await client.shutdown()
    }

    @Test func aFailingInitializerIsClassifiedAndLeavesNoSessionOnTheServer() async throws {
        let name = IntegrationServers.unique("failing_initializer")
        let client = PostgresClient(configuration: IntegrationServers.configuration(
            IntegrationServers.appParameters(port: Self.port, ["application_name": name])
        ) {
            $0.maxConnections = 4
            $0.sessionInitializer = { session in try await session.execute("SET no_such_parameter = 1") }
        })
        let errors = try await withThrowingTaskGroup(of: PostgresError?.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    do {
                        try await client.execute("CREATE TABLE never_created (id int)")
                        return nil
                    } catch let error as PostgresError {
                        return error
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(errors.count == 20)
        for error in errors {
            #expect(error?.errorClass == .permanent)
            #expect(error?.attempts == 1)
            #expect(error?.sqlState == "42704")
            #expect(error?.lastFailure?.phase == .connecting)
            #expect(error?.mayHaveBeenApplied == false)
        }
        // Every session the initializer failed on was closed: none is left on the server.
        let admin = try await IntegrationServers.superuserSession(port: Self.port)
        var left: String?
        for _ in 0..<200 {
            left = try await admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", parameters: [.text(name)]
            ).string(row: 0, column: 0)
            if left == "0" { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        await admin.close()
        #expect(left == "0")
        await client.shutdown()
    }

    @Test func applicationNameIsTheProcessNameUnlessOneIsSet() async throws {
        let processName = try #require(CommandLine.arguments.first?.split(separator: "/").last.map(String.init))
        let client = PostgresClient(configuration: IntegrationServers.configuration(
            IntegrationServers.appParameters(port: Self.port)
        ))
        let shown = try await client.query(
            "SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()", options: .readOnly
        ).decode(String.self)
        #expect(shown == [String(processName.prefix(63))])
        await client.shutdown()

        let named = PostgresClient(configuration: IntegrationServers.configuration(
            IntegrationServers.appParameters(port: Self.port, ["application_name": "billing"])
        ))
        #expect(try await named.query("SHOW application_name", options: .readOnly).decode(String.self) == ["billing"])
        await named.shutdown()
    }
}

extension Sequence {
    /// The values `transform` returns for the elements, in order, one after the other.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var values: [T] = []
        for element in self { values.append(try await transform(element)) }
        return values
    }
}
