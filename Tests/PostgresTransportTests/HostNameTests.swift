import Foundation
import PostgresTransport
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a failed connect says of its host names: which resolved, and which the resolver said do not exist.
@Suite("Host names in connect failures", .capturingLogs)
struct HostNameTests {
    static let typo = "no-such-host.invalid"

    /// A name the resolver says does not exist is named; a temporary failure names none.
    @Test func nameTheResolverSaysDoesNotExistIsNamed() {
        let notFound = TransportError.fromConnectMessage(
            #"could not translate host name "db.exmaple.com" to address: Name or service not known"#,
            host: "db.exmaple.com", port: 5432
        )
        #expect(notFound.hostNamesNotFound == ["db.exmaple.com"])
        #expect(notFound.resolvedHostNames.isEmpty)
        let bsd = TransportError.fromConnectMessage(
            #"could not translate host name "db" to address: nodename nor servname provided, or not known"#,
            host: "db", port: 5432
        )
        #expect(bsd.hostNamesNotFound == ["db"])
        for reason in ["Temporary failure in name resolution", "Non-recoverable failure in name resolution",
                       "No address associated with hostname"] {
            let error = TransportError.fromConnectMessage(
                #"could not translate host name "db.example.com" to address: \#(reason)"#, host: "db.example.com",
                port: 5432
            )
            #expect(error.hostNamesNotFound.isEmpty, "\(reason)")
        }
    }

    /// With several hosts, the names not found are kept only when every host failed so.
    @Test func withSeveralHostsTheNamesNotFoundAreKeptOnlyWhenEveryHostFailedSo() {
        let mixed = TransportError.fromConnectMessage(
            #"""
            could not translate host name "typo.example" to address: Name or service not known
            connection to server at "localhost" (127.0.0.1), port 1 failed: Connection refused
            	Is the server running on that host and accepting TCP/IP connections?
            """#, host: "localhost", port: 1
        )
        #expect(mixed.hostNamesNotFound.isEmpty)
        #expect(mixed.resolvedHostNames == ["localhost"])
        #expect(mixed.message == "Connection refused")
        let both = TransportError.fromConnectMessage(
            #"""
            could not translate host name "a.invalid" to address: Name or service not known
            could not translate host name "b.invalid" to address: Name or service not known
            """#, host: "b.invalid", port: 5432
        )
        #expect(both.hostNamesNotFound == ["a.invalid", "b.invalid"])
        // A numeric host names no address of its own: nothing was looked up.
        let numeric = TransportError.fromConnectMessage(
            #"connection to server at "127.0.0.1", port 1 failed: Connection refused"#, host: "127.0.0.1", port: 1
        )
        #expect(numeric.resolvedHostNames.isEmpty)
        #expect(numeric.hostNamesNotFound.isEmpty)
    }

    @Test(.enabled(if: Resolver.saysNameNotFound(typo), Resolver.skipReason))
    func libpqANameUnderInvalidFailsWithinSecondsAndIsNamedAsNotFound() async throws {
        let start = ContinuousClock.now
        let error = await #expect(throws: TransportError.self) {
            try await LibPQConnection.connect(ConnectionParameters(options: ["host": Self.typo, "user": "nobody"]))
        }
        // Far sooner than a connect timeout; wide, because a loaded machine can stall a task for a while.
        #expect(start.duration(to: .now) < .seconds(3))
        #expect(error?.code == .connectFailed)
        #expect(error?.hostNamesNotFound == [Self.typo])
        #expect(error?.message == #"could not translate host name "\#(Self.typo)" to address: Name or service not known"#)
    }

    /// Libpq, several hosts: the names not found count only when every host failed so; the others resolved.
    @Test(.enabled(if: Resolver.saysNameNotFound(typo), Resolver.skipReason))
    func libpqSeveralHostsTheNamesNotFoundCountOnlyWhenEveryHostFailedSo() async throws {
        let port = try ClosedPort.make()
        let mixed = await #expect(throws: TransportError.self) {
            try await LibPQConnection.connect(ConnectionParameters(options: [
                "host": "\(Self.typo),localhost", "port": String(port), "user": "nobody",
            ]))
        }
        #expect(mixed?.hostNamesNotFound == [])
        #expect(mixed?.resolvedHostNames == ["localhost"])
        let typos = await #expect(throws: TransportError.self) {
            try await LibPQConnection.connect(ConnectionParameters(options: [
                "host": "\(Self.typo),other-\(Self.typo)", "user": "nobody",
            ]))
        }
        #expect(typos?.hostNamesNotFound == [Self.typo, "other-\(Self.typo)"])
    }
}

/// What this machine's resolver answers, for tests whose outcome depends on it.
enum Resolver {
    static let skipReason: Comment =
        "this machine's resolver does not answer that a .invalid name does not exist (EAI_NONAME): no DNS in reach"

    /// Whether `getaddrinfo` says at once that `name` does not exist, rather than failing otherwise (a resolver out
    /// of reach answers EAI_AGAIN, after its timeout).
    static func saysNameNotFound(_ name: String) -> Bool {
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(name, nil, nil, &result)
        if let result { freeaddrinfo(result) }
        return status == EAI_NONAME
    }
}
