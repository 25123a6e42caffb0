import OrdersAPI
import ResilientPostgres
import Testing

/// The token command signs the service's sessions in, on the server `make test` starts, as the role that needs a
/// password: here the command prints that password, as `az account get-access-token` prints a token on Azure.
@Suite(.enabled(if: TestDatabase.isAvailable, TestDatabase.skipReason))
struct DatabaseTokenTests {
    static func client(_ token: DatabaseToken) -> PostgresClient {
        let environment = TestDatabase.environment
        var configuration = PostgresClient.Configuration(connection: ConnectionParameters(options: [
            "host": environment["POSTGRES_HOST"] ?? "127.0.0.1",
            "port": environment["POSTGRES_PORT"] ?? "5432",
            "user": environment["POSTGRES_APP_USER"] ?? "app",
            "dbname": environment["POSTGRES_DB"] ?? "postgres",
        ]))
        configuration.credentials = token.provider
        return PostgresClient(configuration: configuration)
    }

    @Test func sessionsSignInWithWhatTheCommandPrints() async throws {
        let client = Self.client(DatabaseToken(command: #"printf '%s\n' "$POSTGRES_APP_PASSWORD""#))
        let user = try await client.query("SELECT current_user", options: .readOnly).decode(String.self)
        #expect(user == [TestDatabase.environment["POSTGRES_APP_USER"] ?? "app"])
        await client.shutdown()
    }

    @Test func aCommandTheShellCannotFindFailsAtOnce() async throws {
        let client = Self.client(DatabaseToken(command: "no-such-token-command"))
        let error = await #expect(throws: PostgresError.self) {
            try await client.query("SELECT 1", options: .readOnly)
        }
        #expect(error?.errorClass == .permanent)
        #expect((error?.credentialError as? DatabaseToken.CommandFailed)?.status == 127)
        await client.shutdown()
    }
}
