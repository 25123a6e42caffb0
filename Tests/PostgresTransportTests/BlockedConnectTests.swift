import Foundation
import PostgresTransport
import Testing
import TestSupport

/// libpq blocks inside `PQconnectStartParams` and `PQconnectPoll` while it resolves a host name (and while it reads
/// TLS files): a connect still returns at its deadline, and at once when its task is cancelled.
@Suite("Connects blocked inside libpq", .capturingLogs)
struct BlockedConnectTests {
    /// How late past a deadline or a cancellation a connect may end on a loaded machine.
    static let margin = Duration.seconds(5)

    /// Parameters that make libpq block inside `PQconnectPoll` until `file` is released.
    static func blockingParameters(_ listener: SSLAcceptingListener, _ file: BlockingFile) -> ConnectionParameters {
        ConnectionParameters(options: [
            "host": "127.0.0.1", "port": String(listener.port), "user": "x",
            "sslmode": "require", "sslrootcert": file.path, "gssencmode": "disable",
        ])
    }

    @Test func endsAtItsDeadline() async throws {
        let listener = try SSLAcceptingListener(), file = try BlockingFile()
        file.release(after: .seconds(30))
        defer { file.release(); listener.close() }
        let started = ContinuousClock.now
        let error = await #expect(throws: TransportError.self) {
            try await LibPQConnection.connect(Self.blockingParameters(listener, file), timeout: .milliseconds(500))
        }
        let elapsed = ContinuousClock.now - started
        #expect(error?.code == .connectDeadlineExceeded)
        #expect(error?.phase == .connecting)
        #expect(error?.port == listener.port)
        #expect(elapsed < .milliseconds(500) + Self.margin)
    }

    @Test func endsAtOnceWhenCancelled() async throws {
        let listener = try SSLAcceptingListener(), file = try BlockingFile()
        file.release(after: .seconds(30))
        defer { file.release(); listener.close() }
        let parameters = Self.blockingParameters(listener, file)
        let task = Task { try await LibPQConnection.connect(parameters, timeout: .seconds(60)) }
        try await Task.sleep(for: .milliseconds(300))
        let cancelled = ContinuousClock.now
        task.cancel()
        let error = await #expect(throws: TransportError.self) { try await task.value }
        #expect(error?.code == .cancelled)
        #expect(error?.phase == .connecting)
        #expect(ContinuousClock.now - cancelled < Self.margin)
    }

    @Test func aHostBlockedInsideLibpqIsLeftForTheNext() async throws {
        let listener = try SSLAcceptingListener(), file = try BlockingFile()
        file.release(after: .seconds(30))
        defer { file.release(); listener.close() }
        let closed = try ClosedPort.make()
        var parameters = Self.blockingParameters(listener, file)
        parameters["host"] = "127.0.0.1,127.0.0.1"
        parameters["port"] = "\(listener.port),\(closed)"
        let started = ContinuousClock.now
        let error = await #expect(throws: TransportError.self) {
            try await LibPQConnection.connect(
                parameters, timeout: .seconds(10), options: .init(hostConnectTimeout: .milliseconds(500))
            )
        }
        let elapsed = ContinuousClock.now - started
        // The second host was tried: it refused.
        #expect(error?.code == .connectFailed)
        #expect(error?.port == closed)
        #expect(elapsed >= .milliseconds(500))
        #expect(elapsed < .milliseconds(500) + Self.margin)
    }
}
