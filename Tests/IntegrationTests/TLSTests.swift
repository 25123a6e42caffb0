import Foundation
import PostgresPolicy
import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

/// The TLS cluster: a throwaway CA, a certificate for localhost (and 127.0.0.1), TLS required of role app.
///
/// Serialized: one test caps the server's TLS version for a moment.
@Suite("TLS", .capturingLogs, .serialized, .enabled(if: IntegrationServers.tls, IntegrationServers.tlsSkipReason))
struct TLSTests {
    static var port: String { IntegrationServers.port("tls") ?? "5432" }
    static var rootCertificate: String { IntegrationServers.environment.server("tls")?.rootCertificate ?? "" }

    /// Verified TLS to localhost, then `overrides`.
    static func parameters(_ overrides: KeyValuePairs<String, String> = [:]) -> ConnectionParameters {
        var parameters = IntegrationServers.appParameters(port: port, [
            "host": "localhost", "sslmode": "verify-full", "sslrootcert": rootCertificate,
        ])
        for (keyword, value) in overrides { parameters[keyword] = value }
        return parameters
    }

    /// The TLS version of the client's own session, from `pg_stat_ssl`.
    static func tlsVersion(of client: PostgresClient) async throws -> String? {
        let rows = try await client.query(
            "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()", options: .readOnly
        )
        let (ssl, version) = try #require(try rows.decode((Bool, String?).self).first)
        #expect(ssl)
        return version
    }

    /// Connects with `parameters` and expects the client to give up at once, without a retry.
    static func expectPermanentAtOnce(_ parameters: ConnectionParameters) async throws -> PostgresError? {
        let client = PostgresClient(configuration: IntegrationServers.configuration(parameters))
        let error = await #expect(throws: PostgresError.self) {
            try await client.query("SELECT 1", options: .readOnly)
        }
        #expect(error?.errorClass == .permanent)
        #expect(error?.reason == .permanent)
        #expect(error?.attempts == 1)
        #expect(error?.lastFailure?.phase == .connecting)
        await client.shutdown()
        return error
    }

    @Test func verifyFullToLocalhostUsesTLS12OrLater() async throws {
        let client = PostgresClient(configuration: IntegrationServers.configuration(Self.parameters()))
        let version = try #require(try await Self.tlsVersion(of: client))
        #expect(["TLSv1.2", "TLSv1.3"].contains(version))
        await client.shutdown()
    }

    @Test(arguments: ["not-in-certificate.invalid", "127.0.0.2"])
    func hostNameTheCertificateDoesNotNameFailsAtOnce(host: String) async throws {
        // hostaddr reaches the server; host is what libpq checks the certificate against.
        let error = try await Self.expectPermanentAtOnce(Self.parameters(["host": host, "hostaddr": "127.0.0.1"]))
        #expect(error?.lastFailure?.message.contains("does not match host name") == true)
    }

    @Test func missingRootCertificateFailsAtOnce() async throws {
        let missing = URL(fileURLWithPath: Self.rootCertificate).deletingLastPathComponent()
            .appendingPathComponent("no-such-root.crt").path
        let error = try await Self.expectPermanentAtOnce(Self.parameters(["sslrootcert": missing]))
        #expect(error?.lastFailure?.message.contains("root certificate file") == true)
    }

    @Test func certificateFromAnotherAuthorityFailsAtOnce() async throws {
        // The server's own certificate is not a CA: nothing the server presents chains to it.
        let notTheCA = URL(fileURLWithPath: Self.rootCertificate).deletingLastPathComponent()
            .appendingPathComponent("server.crt").path
        let error = try await Self.expectPermanentAtOnce(Self.parameters(["sslrootcert": notTheCA]))
        #expect(error?.lastFailure?.message.contains("certificate verify failed") == true)
    }

    @Test func appWithoutTLSIsRejectedAtOnce() async throws {
        let error = try await Self.expectPermanentAtOnce(Self.parameters(["sslmode": "disable"]))
        #expect(error?.sqlState == "28000")
    }

    @Test func clientRequiringTLS13FailsAtOnceAgainstAServerCappedAt12() async throws {
        let admin = try await IntegrationServers.superuserSession(port: Self.port)
        try await withCleanup {
            try await Self.setMaxProtocolVersion("TLSv1.2", on: admin)
            let error = try await Self.expectPermanentAtOnce(Self.parameters(["ssl_min_protocol_version": "TLSv1.3"]))
            #expect(error?.lastFailure?.message.contains("protocol version") == true)

            let client = PostgresClient(configuration: IntegrationServers.configuration(
                Self.parameters(["ssl_min_protocol_version": "TLSv1.2"])
            ))
            #expect(try await Self.tlsVersion(of: client) == "TLSv1.2")
            await client.shutdown()
        } cleanup: {
            try await Self.setMaxProtocolVersion(nil, on: admin)
            await admin.close()
        }
    }

    @Test func connectionLostUnderTLSIsClassifiedAsServerWentAway() async throws {
        let application = IntegrationServers.unique("tls_victim")
        let client = PostgresClient(configuration: IntegrationServers.configuration(
            Self.parameters(["application_name": application])
        ) { $0.retryPolicy.maxAttempts = 1 })
        let admin = try await IntegrationServers.superuserSession(port: Self.port)
        let sleeper = Task { try await client.query("SELECT pg_sleep(60)", options: .readOnly) }

        // Once the statement runs, over TLS, terminate its backend from another session.
        var terminated = false
        for _ in 0..<200 where !terminated {
            let result = try await admin.execute(
                """
                SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
                WHERE a.application_name = $1 AND a.state = 'active' AND s.ssl
                """,
                parameters: [.text(application)]
            )
            terminated = result.rowCount == 1 && result.string(row: 0, column: 0) == "t"
            if !terminated { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(terminated)
        if !terminated { sleeper.cancel() }

        let outcome = await sleeper.result
        let error = try #require(outcome.failure as? PostgresError)
        #expect(error.errorClass == .serverWentAway)
        #expect(error.reason == .attemptLimitReached)
        #expect(error.lastFailure?.isConnectionUsable == false)
        await admin.close()
        await client.shutdown()
    }

    /// Sets (or, with nil, resets) the server's `ssl_max_protocol_version`, and waits until new sessions see it.
    static func setMaxProtocolVersion(_ version: String?, on admin: LibPQConnection) async throws {
        if let version {
            _ = try await admin.executeUnsafeScript("ALTER SYSTEM SET ssl_max_protocol_version = '\(version)'")
        } else {
            _ = try await admin.executeUnsafeScript("ALTER SYSTEM RESET ssl_max_protocol_version")
        }
        _ = try await admin.execute("SELECT pg_reload_conf()")
        // The postmaster reloads asynchronously; a new session inherits its settings once it has.
        for _ in 0..<200 {
            let session = try await IntegrationServers.superuserSession(port: port)
            let shown = try await session.execute("SHOW ssl_max_protocol_version").string(row: 0, column: 0)
            await session.close()
            if shown == (version ?? "") { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the server did not take ssl_max_protocol_version = \(version ?? "''")")
    }
}
