import ResilientPostgres
import ResilientPostgresTesting
import Synchronization
import Testing

/// The testing sample of "Passwordless sign-in", run as a test.
@Suite("Passwordless sign-in samples")
struct PasswordlessSignInSamples {
    /// A provider handing out `token-1`, `token-2`, ..., each valid for five minutes.
    final class TokenCounter: Sendable {
        private let calls = Mutex(0)

        var provider: CredentialProvider {
            CredentialProvider {
                let call = self.calls.withLock { calls in
                    calls += 1
                    return calls
                }
                return Credential(password: "token-\(call)", validFor: .seconds(300))
            }
        }
    }

    /// A token the server refuses once is fetched again, and the operation does not notice.
    @Test func aRefusedTokenIsFetchedAgain() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT 1", with: .value(1))
        let tokens = TokenCounter()
        let client = PostgresClient.testing(database) { $0.credentials = tokens.provider }
        _ = try await client.query("SELECT 1", options: .readOnly)

        // The kept token expired early: the server refuses it once, and the client fetches another.
        database.terminateSessions()
        database.failNextConnect(with: .authenticationFailed)
        _ = try await database.clock.run { try await client.query("SELECT 1", options: .readOnly) }
        #expect(database.connects.map { $0.credential?.password } == ["token-1", "token-1", "token-2"])
        await client.shutdown()
    }
}
