import Foundation
import PostgresTransport
import Testing
import TestSupport

/// Hosts that accept TCP and never answer, like a frozen primary: a connect leaves each after its connect timeout
/// for the next one listed, within its own deadline.
@Suite("Hung hosts", .capturingLogs)
struct HungHostTests {
    /// How late past a timeout a connect may end on a loaded machine.
    static let margin = Duration.seconds(2)

    @Test(.enabled(if: TestServer.isAvailable, TestServer.skipReason), arguments: [nil, "read-write"])
    func hungFirstHostIsLeftAfterItsConnectTimeout(targetSessionAttrs: String?) async throws {
        let hung = try SilentListener()
        defer { hung.close() }
        var parameters = TestServer.parameters([
            "host": "127.0.0.1,\(TestServer.host)", "port": "\(hung.port),\(TestServer.port)", "connect_timeout": "2",
        ])
        parameters["target_session_attrs"] = targetSessionAttrs
        let started = ContinuousClock.now
        let connection = try await LibPQConnection.connect(parameters, timeout: .seconds(10))
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .seconds(2))
        #expect(elapsed < .seconds(2) + Self.margin)
        #expect(connection.host == TestServer.host)
        #expect(connection.port == Int(TestServer.port))
        #expect(try await connection.execute("SELECT 1").string(row: 0, column: 0) == "1")
        await connection.close()
    }

    @Test func whenEveryHostHangsTheLastOneIsReported() async throws {
        let first = try SilentListener(), second = try SilentListener()
        defer { first.close(); second.close() }
        let started = ContinuousClock.now
        let error = await #expect(throws: TransportError.self) {
            try await LibPQConnection.connect(
                ConnectionParameters(options: [
                    "host": "127.0.0.1,127.0.0.1", "port": "\(first.port),\(second.port)", "user": "x",
                    "connect_timeout": "2",
                ]),
                timeout: .seconds(10)
            )
        }
        let elapsed = ContinuousClock.now - started
        #expect(error?.code == .connectDeadlineExceeded)
        #expect(error?.phase == .connecting)
        #expect(error?.port == second.port)
        #expect(elapsed >= .seconds(4))
        #expect(elapsed < .seconds(4) + Self.margin)
    }

    @Test func theConnectDeadlineBoundsEveryHost() async throws {
        let first = try SilentListener(), second = try SilentListener()
        defer { first.close(); second.close() }
        let started = ContinuousClock.now
        let error = await #expect(throws: TransportError.self) {
            try await LibPQConnection.connect(
                ConnectionParameters(options: [
                    "host": "127.0.0.1,127.0.0.1", "port": "\(first.port),\(second.port)", "user": "x",
                    "connect_timeout": "2",
                ]),
                timeout: .milliseconds(800)
            )
        }
        let elapsed = ContinuousClock.now - started
        #expect(error?.code == .connectDeadlineExceeded)
        // The first host had half of the 800 ms, so the second had its turn, and the deadline ended there (unless a
        // loaded machine let the first take it all).
        #expect([first.port, second.port].contains(error?.port))
        #expect(elapsed >= .milliseconds(800))
        #expect(elapsed < .milliseconds(800) + Self.margin)
    }

    @Test(.enabled(if: TestServer.isAvailable, TestServer.skipReason))
    func withoutConnectTimeoutEachHostHasTheLibraryDefault() async throws {
        let hung = try SilentListener()
        defer { hung.close() }
        let parameters = TestServer.parameters([
            "host": "127.0.0.1,\(TestServer.host)", "port": "\(hung.port),\(TestServer.port)",
        ])
        let started = ContinuousClock.now
        let connection = try await LibPQConnection.connect(
            parameters, timeout: .seconds(10), options: .init(hostConnectTimeout: .seconds(1))
        )
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .seconds(1))
        #expect(elapsed < .seconds(1) + Self.margin)
        #expect(connection.port == Int(TestServer.port))
        await connection.close()
    }

    @Test func aSingleHostHasTheWholeDeadline() async throws {
        let hung = try SilentListener()
        defer { hung.close() }
        let started = ContinuousClock.now
        let error = await #expect(throws: TransportError.self) {
            try await LibPQConnection.connect(
                ConnectionParameters(options: ["host": "127.0.0.1", "port": String(hung.port), "user": "x"]),
                timeout: .milliseconds(800), options: .init(hostConnectTimeout: .milliseconds(100))
            )
        }
        #expect(error?.code == .connectDeadlineExceeded)
        #expect(error?.message.contains("connect deadline") == true)
        #expect(ContinuousClock.now - started >= .milliseconds(800))
    }

    @Test func aSingleHostIsBoundedByConnectTimeoutWhenGiven() async throws {
        let hung = try SilentListener()
        defer { hung.close() }
        let started = ContinuousClock.now
        let error = await #expect(throws: TransportError.self) {
            try await LibPQConnection.connect(
                ConnectionParameters(options: [
                    "host": "127.0.0.1", "port": String(hung.port), "user": "x", "connect_timeout": "2",
                ]),
                timeout: .seconds(10)
            )
        }
        let elapsed = ContinuousClock.now - started
        #expect(error?.code == .connectDeadlineExceeded)
        #expect(error?.message.contains("host's connect timeout") == true)
        #expect(elapsed >= .seconds(2))
        #expect(elapsed < .seconds(2) + Self.margin)
    }

    @Test(.enabled(if: TestServer.isAvailable, TestServer.skipReason))
    func aServerErrorEndsTheListAsInLibpq() async throws {
        // "If a connection is established successfully, but authentication fails, the remaining hosts in the list
        // are not tried": the hung host after it is never reached.
        let hung = try SilentListener()
        defer { hung.close() }
        let started = ContinuousClock.now
        let error = await #expect(throws: TransportError.self) {
            try await LibPQConnection.connect(TestServer.parameters([
                "host": "\(TestServer.host),127.0.0.1", "port": "\(TestServer.port),\(hung.port)",
                "dbname": "no_such_database", "connect_timeout": "2",
            ]))
        }
        #expect(error?.sqlState == "3D000")
        #expect(error?.port == Int(TestServer.port))
        #expect(ContinuousClock.now - started < .seconds(2))
    }
}
