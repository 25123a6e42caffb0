import Logging
import PostgresPolicy
import PostgresTransport
import ResilientPostgres
import Synchronization
import Testing
import TestSupport

/// Sessions that sign in with a credential provider's password, on the main server: a kept password the server
/// refuses is refreshed once, and a provider's failures are retried or not as it marks them.
@Suite("Credential providers", .capturingLogs, .enabled(if: IntegrationServers.main, IntegrationServers.mainSkipReason))
struct CredentialProviderTests {
    static var port: String { IntegrationServers.port("main")! }

    /// A password changed between the fetch and a connect: the connect is refused once, and the next one, with a
    /// refreshed password, opens; no operation fails, and the session opened before the change still serves.
    @Test func aKeptPasswordTheServerRefusesIsRefreshedOnce() async throws {
        let role = try await SigningInRole.create(port: Self.port)
        let calls = Counter()
        let client = PostgresClient(configuration: IntegrationServers.configuration(role.parameters) {
            $0.credentials = CredentialProvider {
                calls.increment()
                return Credential(password: await role.current(), validFor: .seconds(300))
            }
        })
        try await withCleanup {
            _ = try await client.query("SELECT 1", options: .readOnly)
            let admin = try await IntegrationServers.superuserSession(port: Self.port)
            try await client.withConnection { held in
                try await role.change(on: admin, to: "second")
                // The held session signed in before the change; a second session needs a new one.
                _ = try await client.query("SELECT 1", options: .readOnly)
                _ = try await held.execute("SELECT 1")
            }
            await admin.close()
            #expect(calls.count == 2)
        } cleanup: {
            await client.shutdown()
            try await role.drop()
        }
    }

    struct TokenServiceDown: Error {}
    struct NotPermitted: Error {}

    @Test func aTransientProviderFailureIsRetriedUntilItRecovers() async throws {
        let calls = Counter()
        var parameters = IntegrationServers.appParameters(port: Self.port)
        let password = parameters["password"]!
        parameters["password"] = nil
        let client = PostgresClient(configuration: IntegrationServers.configuration(parameters) {
            $0.credentials = CredentialProvider {
                if calls.increment() <= 2 { throw TokenServiceDown() }
                return Credential(password: password)
            }
        })
        let rows = try await client.query("SELECT current_user", options: .readOnly)
        #expect(try rows.decode(String.self) == [IntegrationServers.appUser])
        #expect(calls.count == 3)
        await client.shutdown()
    }

    @Test func aPermanentProviderFailureFailsFastWithItsError() async throws {
        var parameters = IntegrationServers.appParameters(port: Self.port)
        parameters["password"] = nil
        let client = PostgresClient(configuration: IntegrationServers.configuration(parameters) {
            $0.credentials = CredentialProvider { throw CredentialError.permanent(NotPermitted()) }
        })
        let started = ContinuousClock.now
        let error = await #expect(throws: PostgresError.self) {
            try await client.query("SELECT 1", options: .readOnly)
        }
        #expect(error?.errorClass == .permanent)
        #expect(error?.attempts == 1)
        #expect(error?.credentialError is NotPermitted)
        #expect(ContinuousClock.now - started < .seconds(5))
        await client.shutdown()
    }
}

/// A count shared with a closure that may run more than once.
final class Counter: Sendable {
    private let value = Mutex(0)

    @discardableResult
    func increment() -> Int {
        value.withLock { value in
            value += 1
            return value
        }
    }

    var count: Int { value.withLock { $0 } }
}
