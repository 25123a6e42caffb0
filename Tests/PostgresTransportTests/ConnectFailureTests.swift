import Foundation
import PostgresTransport
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("Connect failures", .capturingLogs)
struct ConnectFailureTests {
    @Test func connectionRefusedHasNoSQLState() async throws {
        let port = try ClosedPort.make()
        let error = await #expect(throws: TransportError.self) {
            try await LibPQConnection.connect(ConnectionParameters(options: [
                "host": "127.0.0.1", "port": String(port), "user": "nobody",
            ]))
        }
        #expect(error?.code == .connectFailed)
        #expect(error?.sqlState == nil)
        #expect(error?.phase == .connecting)
        #expect(error?.isConnectionUsable == false)
        #expect(error?.message == "Connection refused")
        #expect(error?.host == "127.0.0.1")
        #expect(error?.port == port)
    }

    @Test(.enabled(if: TestServer.isAvailable, TestServer.skipReason))
    func wrongPasswordIs28P01() async throws {
        let error = await #expect(throws: TransportError.self) {
            try await LibPQConnection.connect(TestServer.parameters([
                "user": TestServer.appUser, "password": "not-the-password",
            ]))
        }
        #expect(error?.code == .connectFailed)
        #expect(error?.sqlState == "28P01")
        #expect(error?.severity == "FATAL")
        #expect(error?.phase == .connecting)
        #expect(error?.message.contains("password authentication failed") == true)
        #expect(error?.port == Int(TestServer.port))
        // The password given is in no description of the failure or the parameters.
        #expect(error.map { String(reflecting: $0) }?.contains("not-the-password") == false)
    }

    @Test(.enabled(if: TestServer.isAvailable, TestServer.skipReason))
    func rightPasswordConnects() async throws {
        let connection = try await LibPQConnection.connect(TestServer.parameters([
            "user": TestServer.appUser, "password": TestServer.appPassword,
        ]))
        let result = try await connection.execute("SELECT current_user")
        #expect(result.string(row: 0, column: 0) == TestServer.appUser)
        await connection.close()
    }

    @Test(.enabled(if: TestServer.isAvailable, TestServer.skipReason))
    func missingDatabaseIs3D000() async throws {
        let error = await #expect(throws: TransportError.self) {
            try await LibPQConnection.connect(TestServer.parameters(["dbname": "no_such_database"]))
        }
        #expect(error?.code == .connectFailed)
        #expect(error?.sqlState == "3D000")
        #expect(error?.phase == .connecting)
    }

    @Test(.enabled(if: TestServer.isAvailable, TestServer.skipReason))
    func multiHostReportsTheLastAttempt() async throws {
        let closed = try ClosedPort.make()
        let error = await #expect(throws: TransportError.self) {
            try await LibPQConnection.connect(TestServer.parameters([
                "host": "127.0.0.1,\(TestServer.host)", "port": "\(closed),\(TestServer.port)", "user": "rejectme",
            ]))
        }
        #expect(error?.sqlState == "28000")
        #expect(error?.port == Int(TestServer.port))
    }

    @Test func silentListenerEndsAtTheConnectDeadline() async throws {
        // A listener that accepts (the kernel completes the handshake) and never answers.
        let listener = try SilentListener()
        defer { listener.close() }
        let started = ContinuousClock.now
        let error = await #expect(throws: TransportError.self) {
            try await LibPQConnection.connect(
                ConnectionParameters(options: ["host": "127.0.0.1", "port": String(listener.port), "user": "x"]),
                timeout: .milliseconds(300)
            )
        }
        let elapsed = ContinuousClock.now - started
        #expect(error?.code == .connectDeadlineExceeded)
        #expect(error?.phase == .connecting)
        #expect(elapsed >= .milliseconds(300))
        #expect(elapsed < .seconds(20))
    }

    @Test func cancellingAConnectEndsIt() async throws {
        let listener = try SilentListener()
        defer { listener.close() }
        let task = Task {
            try await LibPQConnection.connect(
                ConnectionParameters(options: ["host": "127.0.0.1", "port": String(listener.port), "user": "x"]),
                timeout: .seconds(60)
            )
        }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        let error = await #expect(throws: TransportError.self) { try await task.value }
        #expect(error?.code == .cancelled)
        #expect(error?.phase == .connecting)
    }

    @Test func invalidConnectionStringNamesTheProblem() throws {
        let error = #expect(throws: TransportError.self) {
            try ConnectionParameters("host=localhost hots=typo")
        }
        #expect(error?.code == .invalidConnectionString)
        #expect(error?.message.contains("\"hots\"") == true)
    }

    @Test func connectionStringAndURLAreParsedByLibpq() throws {
        let keywords = try ConnectionParameters("host=a,b port=5432,5433 dbname=app password=hunter2")
        #expect(keywords["host"] == "a,b")
        #expect(keywords["port"] == "5432,5433")
        #expect(keywords["dbname"] == "app")
        #expect(!keywords.description.contains("hunter2"))
        let url = try ConnectionParameters("postgresql://app:hunter2@db1:5432,db2:5433/orders?sslmode=require")
        #expect(url["host"] == "db1,db2")
        #expect(url["port"] == "5432,5433")
        #expect(url["user"] == "app")
        #expect(url["dbname"] == "orders")
        #expect(url["sslmode"] == "require")
        #expect(url["password"] == "hunter2")
        #expect(!url.description.contains("hunter2"))
    }
}

/// A loopback port with nothing listening on it.
enum ClosedPort {
    static func make() throws -> Int {
        let listener = try SilentListener()
        let port = listener.port
        listener.close()
        return port
    }
}

/// A TCP socket listening on a loopback port that never accepts: connects complete in the kernel and then hear
/// nothing, like a hung server.
final class SilentListener: Sendable {
    let descriptor: Int32
    let port: Int

    init() throws {
        #if canImport(Glibc)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0, listen(descriptor, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.descriptor = descriptor
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() {
        #if canImport(Glibc)
        _ = Glibc.close(descriptor)
        #else
        _ = Darwin.close(descriptor)
        #endif
    }
}
