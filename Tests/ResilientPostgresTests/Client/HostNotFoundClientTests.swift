import Foundation
import PostgresTransport
import ResilientPostgres
import ResilientPostgresTesting
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A mistyped host name fails at once through libpq; a name that resolved before for the client is retried.
@Suite("Host not found, through libpq", .capturingLogs)
struct HostNotFoundClientTests {
    static let typo = "no-such-host.invalid"

    /// A name under .invalid fails within seconds, as host not found, after one attempt.
    @Test(.enabled(if: saysNameNotFound(typo), nameNotFoundSkipReason))
    func nameUnderInvalidFailsWithinSeconds() async throws {
        let client = PostgresClient(configuration: try .init("host=\(Self.typo) user=app dbname=app"))
        let start = ContinuousClock.now
        let error = await #expect(throws: PostgresError.self) { try await client.execute("SELECT 1") }
        // Far sooner than the 60-second budget a retried failure would spend; wide, for a loaded machine.
        #expect(start.duration(to: .now) < .seconds(20))
        #expect(error?.errorClass == .hostNotFound)
        #expect(error?.reason == .permanent)
        #expect(error?.attempts == 1)
        #expect(error?.lastFailure?.hostNamesNotFound == [Self.typo])
        await client.shutdown()
    }

    /// The same answer for localhost: at once for a client that never reached it, retried by one that did.
    @Test(.enabled(if: ClientTestServer.isAvailable, ClientTestServer.skipReason))
    func localhostNotFoundIsRetriedOnlyByAClientThatReachedIt() async throws {
        let configuration = ClientTestServer.configuration {
            $0.connection["host"] = "localhost"
            $0.retryPolicy.maxAttempts = 2
        }
        // A client whose first connect hears that the name does not exist.
        let fresh = FaultInjector()
        fresh.failNextConnect(with: .hostNotFound)
        let newcomer = PostgresClient.testing(configuration, injecting: fresh)
        let first = await #expect(throws: PostgresError.self) { try await newcomer.execute("SELECT 1") }
        #expect(first?.errorClass == .hostNotFound)
        #expect(first?.attempts == 1)
        await newcomer.shutdown()

        // A client that connected to localhost for real, then loses its session and hears the same answer.
        let faults = FaultInjector()
        let client = PostgresClient.testing(configuration, injecting: faults)
        try await client.execute("SELECT 1")
        faults.terminateSessions()
        faults.failNextConnect(with: .hostNotFound)
        let error = await #expect(throws: PostgresError.self) { try await client.execute("SELECT 1") }
        #expect(error?.history.map(\.errorClass) == [.serverWentAway, .unreachable])
        #expect(error?.reason == .attemptLimitReached)
        #expect(error?.lastFailure?.message == #"could not translate host name "localhost" to address: Name or service not known"#)
        #expect(error?.lastFailure?.hostNamesNotFound == [])
        await client.shutdown()
    }
}

let nameNotFoundSkipReason: Comment =
    "this machine's resolver does not answer that a .invalid name does not exist (EAI_NONAME): no DNS in reach"

/// Whether `getaddrinfo` says that `name` does not exist, rather than failing otherwise (a resolver out of reach
/// answers EAI_AGAIN, after its timeout).
func saysNameNotFound(_ name: String) -> Bool {
    var result: UnsafeMutablePointer<addrinfo>?
    let status = getaddrinfo(name, nil, nil, &result)
    if let result { freeaddrinfo(result) }
    return status == EAI_NONAME
}
