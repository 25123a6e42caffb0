import ResilientPostgres
import ResilientPostgresTesting
import Testing
import TestSupport

/// An app's test of its token provider against a real server: the injector refuses a session's credential once,
/// and the client fetches another and signs in with it.
@Suite(
    "Fault injector and credential providers", .capturingLogs,
    .enabled(if: InjectorTestServer.isAvailable, InjectorTestServer.skipReason)
)
struct FaultInjectorCredentialTests {
    @Test func aCredentialRefusedOnceIsFetchedAgainAndSignsIn() async throws {
        let server = ServerEnvironment.current.main
        var configuration = PostgresClient.Configuration(connection: server.appParameters())
        configuration.connection["password"] = nil
        let calls = Counter()
        configuration.credentials = CredentialProvider {
            calls.increment()
            return Credential(password: server.appPassword, validFor: .seconds(300))
        }
        let faults = FaultInjector()
        let client = PostgresClient.testing(configuration, injecting: faults)
        _ = try await client.query("SELECT 1", options: .readOnly)
        // A second session, while the first is held, signs in with the kept credential: refused once.
        faults.failNextConnect(with: .authenticationFailed)
        try await client.withConnection { _ in
            let user = try await client.query("SELECT current_user", options: .readOnly).decode(String.self)
            #expect(user == [server.appUser])
        }
        #expect(calls.count == 2)
        #expect(faults.connects.map(\.outcome) == [.opened, .failed, .opened])
        #expect(faults.connects.allSatisfy { $0.credential?.password == server.appPassword })
        await client.shutdown()
    }
}
