import Foundation
import InMemoryLogging
import Logging
import PostgresTransport
import ResilientPostgres
import ResilientPostgresTesting
import Synchronization
import Testing
import TestSupport

/// Drives every error path reachable against a real server with a password in the connection string and secret
/// values bound as parameters, and checks that neither shows in any error's description, in any log record, or in
/// anything else the client prints. The server's own texts do quote bound values (a unique violation's DETAIL, an
/// input syntax error): where they do, the test first checks that the value really is in the facts it keeps (so
/// that finding it missing from the description means something).
///
/// Serialized: one test at a time, so that the suite holds a few of the shared server's connection slots, not dozens.
@Suite(
    "Secrets stay out of errors and logs", .capturingLogs, .serialized,
    .enabled(if: ClientTestServer.isAvailable, ClientTestServer.skipReason)
)
struct SecretsTests {
    static let port = ClientTestServer.port
    static let appUser = ClientTestServer.environment.appUser
    static let password = ClientTestServer.environment.appPassword
    static let wrongPassword = "Wr0ng-Passw0rd-5150"
    static let refusedPassword = "Refused-Passw0rd-8086"
    static let secret = "top-secret-value-4711"

    /// `app`'s URL with its password, on the main server (or another port).
    static func url(password: String = password, port: String = port, application: String = "secrets") -> String {
        "postgresql://\(appUser):\(password)@127.0.0.1:\(port)/postgres?application_name=\(application)"
    }

    /// A client from a connection string, logging everything into `logs`, with a budget short enough for tests.
    static func client(
        _ connectionString: String, logs: InMemoryLogHandler,
        _ adjust: (inout PostgresClient.Configuration) -> Void = { _ in }
    ) throws -> PostgresClient {
        var configuration = try PostgresClient.Configuration(connectionString)
        configuration.logger = .inMemory(logs)
        configuration.retryPolicy = RetryPolicy(backoff: .constant(.milliseconds(50), jitter: .none), budget: .seconds(3))
        adjust(&configuration)
        return PostgresClient(configuration: configuration)
    }

    @Test func wrongPasswordFailsAtOnceWithoutShowingIt() async throws {
        let logs = InMemoryLogHandler()
        let client = try Self.client(Self.url(password: Self.wrongPassword), logs: logs)
        let error = await #expect(throws: PostgresError.self) { try await client.query("SELECT 1", options: .readOnly) }
        #expect(error?.errorClass == .permanent)
        #expect(error?.sqlState == "28P01")
        expectClean(error, logs: logs, secrets: [Self.wrongPassword], also: [
            "\(client.configuration)", "\(client.configuration.connection)",
            String(reflecting: client.configuration.connection),
        ])
        await client.shutdown()
    }

    /// A malformed connection string holding a password is refused without quoting it.
    @Test(arguments: [
        "postgresql://app:\(password)@[::1", "postgresql://app:\(password)%zz@db/app", "postgresql://app:\(password)@db/app?x",
        "host=db password=\(password) hots=x", "host=db password=\(password) trailing", "password='\(password)",
    ])
    func malformedConnectionStringHoldingAPasswordIsRefusedWithoutQuotingIt(connectionString: String) {
        let logs = InMemoryLogHandler()
        let error = #expect(throws: TransportError.self) { _ = try PostgresClient.Configuration(connectionString) }
        #expect(error?.code == .invalidConnectionString)
        #expect(error?.message.contains(Self.password) == false)
        expectClean(error, logs: logs, secrets: [Self.password])
    }

    @Test func refusedRoleFailsAtOnceWithoutShowingThePassword() async throws {
        let logs = InMemoryLogHandler()
        let connectionString = "host=127.0.0.1 port=\(Self.port) dbname=postgres user=rejectme password=\(Self.refusedPassword)"
        let client = try Self.client(connectionString, logs: logs)
        let error = await #expect(throws: PostgresError.self) { try await client.execute("SELECT 1") }
        #expect(error?.errorClass == .permanent)
        #expect(error?.sqlState == "28000")
        expectClean(error, logs: logs, secrets: [Self.refusedPassword], also: ["\(client.configuration)"])
        await client.shutdown()
    }

    @Test(arguments: [
        ("wrong password", url(password: wrongPassword), "password authentication failed for user"),
        ("missing database", url().replacing("/postgres?", with: "/nowhere?"), "does not exist"),
        ("TLS required", url() + "&sslmode=require", "server does not support SSL, but SSL was required"),
        ("closed port", url(port: "1"), "Connection refused"),
        ("refused role", "host=127.0.0.1 port=\(port) user=rejectme password=\(refusedPassword)", "pg_hba.conf rejects"),
        ("mistyped host", url().replacing("@127.0.0.1:", with: "@no-such-host.invalid:"), "could not translate host name"),
    ])
    func failedConnectsDescriptionSaysWhyAndNeverShowsThePassword(
        _ name: String, connectionString: String, cause: String
    ) async throws {
        if connectionString.contains(".invalid"), !saysNameNotFound("no-such-host.invalid") { return }
        let logs = InMemoryLogHandler()
        let client = try Self.client(connectionString, logs: logs) { $0.retryPolicy.maxAttempts = 1 }
        let error = await #expect(throws: PostgresError.self) { try await client.execute("SELECT \(Self.secret)") }
        // The cause is shown, so that finding no password beside it means something.
        #expect(error.map { String(describing: $0).contains(cause) } == true, "\(name)")
        expectClean(error, logs: logs, secrets: [Self.password, Self.wrongPassword, Self.refusedPassword, Self.secret])
        await client.shutdown()
    }

    @Test func closedPortExhaustsTheBudgetWithoutShowingThePassword() async throws {
        let logs = InMemoryLogHandler()
        // Refused connects are retried every 50 ms for 5 s: room for several attempts even on a loaded machine.
        let client = try Self.client(Self.url(port: "1"), logs: logs) { $0.retryPolicy.budget = .seconds(5) }
        let error = await #expect(throws: PostgresError.self) {
            try await client.execute("INSERT INTO nowhere VALUES (\(Self.secret))")
        }
        #expect(error?.errorClass == .unreachable)
        #expect(error?.reason == .budgetExhausted)
        // The retries were logged, so the check below read real lines.
        #expect(logs.entries.contains { $0.message == "retrying" })
        expectClean(error, logs: logs, secrets: [Self.password, Self.secret])
        await client.shutdown()
    }

    @Test func constraintViolationQuotingTheValueDoesNotShowIt() async throws {
        let logs = InMemoryLogHandler()
        let client = try Self.client(Self.url(), logs: logs)
        let table = ClientTestServer.uniqueTable("secrets")
        try await client.execute("CREATE TABLE \(unsafeRaw: table) (token text UNIQUE)")
        try await client.execute("INSERT INTO \(unsafeRaw: table) VALUES (\(Self.secret))")
        let error = await #expect(throws: PostgresError.self) {
            try await client.execute("INSERT INTO \(unsafeRaw: table) VALUES (\(Self.secret))")
        }
        #expect(error?.sqlState == "23505")
        // The server's DETAIL quotes the value: "Key (token)=(top-secret-value-4711) already exists."
        #expect(error?.lastFailure?.detail?.contains(Self.secret) == true)
        expectClean(error, logs: logs, secrets: [Self.password, Self.secret], boundValuesInDebug: true)
        try await client.execute("DROP TABLE \(unsafeRaw: table)")
        await client.shutdown()
    }

    @Test func syntaxAndInputErrorsDoNotShowTheValue() async throws {
        let logs = InMemoryLogHandler()
        let client = try Self.client(Self.url(), logs: logs)
        let syntax = await #expect(throws: PostgresError.self) { try await client.execute("SELEC \(Self.secret)") }
        #expect(syntax?.sqlState == "42601")
        expectClean(syntax, logs: logs, secrets: [Self.password, Self.secret])
        // invalid input syntax for type integer: "top-secret-value-4711"
        let input = await #expect(throws: PostgresError.self) {
            try await client.query("SELECT \(Self.secret)::int", options: .readOnly)
        }
        #expect(input?.sqlState == "22P02")
        #expect(input?.lastFailure?.message.contains(Self.secret) == true)
        expectClean(input, logs: logs, secrets: [Self.password, Self.secret], boundValuesInDebug: true)
        await client.shutdown()
    }

    @Test func decodingErrorDoesNotShowTheValue() async throws {
        let logs = InMemoryLogHandler()
        let client = try Self.client(Self.url(), logs: logs)
        let rows = try await client.query("SELECT \(Self.secret)::text AS token", options: .readOnly)
        let error = #expect(throws: PostgresDecodingError.self) { _ = try rows[0].decode(UUID.self, column: "token") }
        #expect(error?.code == .typeMismatch)
        // Only the debug description previews the value.
        #expect(error.map { String(reflecting: $0) }?.contains(Self.secret) == true)
        expectClean(error, logs: logs, secrets: [Self.password, Self.secret], boundValuesInDebug: true)
        await client.shutdown()
    }

    @Test func lostConnectionsDoNotShowTheValue() async throws {
        let logs = InMemoryLogHandler()
        let victim = "secrets-victim-\(UInt32.random(in: 0...UInt32.max))"
        let client = try Self.client(Self.url(application: victim), logs: logs)
        // Terminates the client's sessions as soon as they appear, until the operation gives up.
        let killer = Task {
            let session = try await ClientTestServer.session()
            while !Task.isCancelled {
                _ = try await session.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                    parameters: [.text(victim)]
                )
                try? await Task.sleep(for: .milliseconds(20))
            }
            await session.close()
        }
        let error = await #expect(throws: PostgresError.self) {
            try await client.query("SELECT pg_sleep(5) WHERE \(Self.secret) <> ''", options: .readOnly)
        }
        killer.cancel()
        _ = try? await killer.value
        #expect(error?.history.contains { $0.errorClass == .serverWentAway } == true)
        expectClean(error, logs: logs, secrets: [Self.password, Self.secret])
        await client.shutdown()
    }

    @Test func unknownOutcomeDoesNotShowTheValue() async throws {
        let logs = InMemoryLogHandler()
        let table = ClientTestServer.uniqueTable("secrets_unknown")
        let setup = try Self.client(Self.url(), logs: logs)
        try await setup.execute("CREATE TABLE \(unsafeRaw: table) (token text)")
        // The insert runs on the server for real; then its answer is lost.
        let faults = FaultInjector()
        faults.fail(.prefix("INSERT INTO \(table)"), with: .connectionLostAfterSend)
        var configuration = try PostgresClient.Configuration(Self.url())
        configuration.logger = .inMemory(logs)
        let client = PostgresClient.testing(configuration, injecting: faults)
        let error = await #expect(throws: PostgresError.self) {
            try await client.execute("INSERT INTO \(unsafeRaw: table) VALUES (\(Self.secret))")
        }
        #expect(error?.errorClass == .outcomeUnknown)
        expectClean(error, logs: logs, secrets: [Self.password, Self.secret])
        try await setup.execute("DROP TABLE \(unsafeRaw: table)")
        await client.shutdown()
        await setup.shutdown()
    }

    @Test func budgetExhaustedWaitingForASessionDoesNotShowTheValue() async throws {
        let logs = InMemoryLogHandler()
        let client = try Self.client(Self.url(), logs: logs) {
            $0.maxConnections = 1
            $0.retryPolicy.budget = .milliseconds(300)
        }
        // Open the one session first, so that the holder below does not have to connect within the short budget.
        for attempt in 1...50 {
            do {
                _ = try await client.query("SELECT 1", options: .readOnly)
                break
            } catch where attempt < 50 {
                continue
            }
        }
        // The holder keeps the only session, between statements, until told to let go.
        let (holderReady, signalHolderReady) = AsyncStream<Void>.makeStream()
        let (letGo, signalLetGo) = AsyncStream<Void>.makeStream()
        let holder = Task {
            try await client.withConnection(options: .readOnly) { connection in
                _ = try await connection.query("SELECT \(Self.secret)::text")
                signalHolderReady.yield()
                for await _ in letGo { break }
            }
        }
        for await _ in holderReady { break }
        let error = await #expect(throws: PostgresError.self) {
            try await client.execute("SELECT \(Self.secret)::text")
        }
        #expect(error?.reason == .budgetExhausted)
        signalLetGo.finish()
        _ = try? await holder.value
        expectClean(error, logs: logs, secrets: [Self.password, Self.secret])
        await client.shutdown()
    }

    /// A token the server refuses (fresh from the provider: permanent) shows nowhere, nor does the credential.
    @Test func refusedTokenFailsWithoutShowingIt() async throws {
        let logs = InMemoryLogHandler()
        let client = try Self.client(Self.url(password: ""), logs: logs) { configuration in
            configuration.connection["password"] = nil
            configuration.credentials = CredentialProvider {
                Credential(password: Self.wrongPassword, validFor: .seconds(300))
            }
        }
        let error = await #expect(throws: PostgresError.self) { try await client.query("SELECT 1", options: .readOnly) }
        #expect(error?.errorClass == .permanent)
        #expect(error?.sqlState == "28P01")
        let credential = Credential(password: Self.wrongPassword, user: Self.appUser, validFor: .seconds(300))
        expectClean(error, logs: logs, secrets: [Self.wrongPassword], also: [
            "\(client.configuration)", "\(credential)", String(reflecting: credential), "\([credential])",
        ])
        await client.shutdown()
    }

    /// A provider's error that quotes a secret is kept for the app, and no description or log line shows its text.
    @Test func providerErrorQuotingASecretIsKeptWithoutShowingIt() async throws {
        struct TokenServiceRefused: Error, CustomStringConvertible {
            var description: String { "token \(SecretsTests.secret) was revoked" }
        }
        let logs = InMemoryLogHandler()
        let client = try Self.client(Self.url(password: ""), logs: logs) { configuration in
            configuration.connection["password"] = nil
            configuration.credentials = CredentialProvider { throw TokenServiceRefused() }
        }
        let error = await #expect(throws: PostgresError.self) { try await client.query("SELECT 1", options: .readOnly) }
        #expect(error?.errorClass == .credentialUnavailable)
        #expect(error?.credentialError is TokenServiceRefused)
        let kept = error?.credentialError.map { String(describing: $0) }
        #expect(kept?.contains(Self.secret) == true)
        expectClean(error, logs: logs, secrets: [Self.secret])
        await client.shutdown()
    }

    @Test func queriesAndParametersPrintNoValues() throws {
        let query: PostgresQuery = "SELECT \(Self.secret), \(Self.secret)::bytea"
        #expect(!"\(query)".contains(Self.secret))
        #expect(!String(reflecting: query).contains(Self.secret))
        #expect(!"\(Parameter.text(Self.secret))".contains(Self.secret))
        let parameters = try ConnectionParameters(Self.url())
        #expect(!"\(parameters)".contains(Self.password))
        #expect(!"\(parameters.options)".contains(Self.password))
        let keyPassword = try ConnectionParameters("host=db sslkey=/k.pem sslpassword=\(Self.refusedPassword)")
        #expect(!"\(keyPassword)".contains(Self.refusedPassword))
    }
}

/// Checks that no secret appears in an error's description, in what it holds that has a description of its own,
/// in the log records, or in the other given texts; and that a password never appears even in the debug
/// description. `boundValuesInDebug` says that the server quoted a bound value, which `String(reflecting:)` shows by
/// design; passwords are checked there regardless.
func expectClean(
    _ error: (any Error)?,
    logs: InMemoryLogHandler,
    secrets: [String],
    also: [String] = [],
    boundValuesInDebug: Bool = false,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let error else { return }
    var shown = [String(describing: error), error.localizedDescription] + logs.entries.map(\.text) + also
    if let error = error as? PostgresError {
        shown += error.history.map { String(describing: $0) }
        shown += [error.lastFailure.map { String(describing: $0) } ?? ""]
    }
    for secret in secrets {
        for text in shown where text.contains(secret) {
            Issue.record("a secret shows in: \(text)", sourceLocation: sourceLocation)
        }
    }
    let debug = String(reflecting: error)
    for secret in secrets where debug.contains(secret) {
        if secret == SecretsTests.password || secret == SecretsTests.wrongPassword
            || secret == SecretsTests.refusedPassword || !boundValuesInDebug
        {
            Issue.record("a secret shows in the debug description: \(debug)", sourceLocation: sourceLocation)
        }
    }
}
