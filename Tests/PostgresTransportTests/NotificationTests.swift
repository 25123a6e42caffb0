import PostgresTransport
import Testing
import TestSupport

/// Waiting for notifications on an idle session: what arrives during a statement is kept, the wait ends on a
/// deadline, a cancellation or a close, and a session lost while waiting says why.
@Suite("Notifications", .capturingLogs, .enabled(if: TestServer.isAvailable, TestServer.skipReason))
struct NotificationTests {
    static func channel() -> String { "transport_\(UInt32.random(in: 0...UInt32.max))" }

    @Test func notificationsSentDuringAStatementAreKeptAndComeInOrder() async throws {
        let listener = try await TestServer.connect()
        let sender = try await TestServer.connect()
        let channel = Self.channel()
        _ = try await listener.execute("LISTEN \(channel)")
        // Sent while the listener runs a statement: libpq reads them with its answer and keeps them.
        async let sleeping = listener.execute("SELECT pg_sleep(0.2)")
        for number in 1...3 {
            _ = try await sender.execute("SELECT pg_notify($1, $2)", parameters: [.text(channel), .text("\(number)")])
        }
        _ = try await sleeping
        var received: [PostgresNotification] = []
        while received.count < 3 {
            received += try await listener.receiveNotifications(until: .now.advanced(by: .seconds(30)))
        }
        #expect(received.map(\.payload) == ["1", "2", "3"])
        #expect(received.allSatisfy { $0.channel == channel && $0.backendPID == sender.backendPID })
        await listener.close()
        await sender.close()
    }

    @Test func aWaitEndsAtItsDeadlineOrWhenItsTaskIsCancelledAndTheSessionStaysUsable() async throws {
        let listener = try await TestServer.connect()
        _ = try await listener.execute("LISTEN \(Self.channel())")
        #expect(try await listener.receiveNotifications(until: .now.advanced(by: .milliseconds(50))).isEmpty)

        let waiting = Task { try await listener.receiveNotifications() }
        try await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        let error = await #expect(throws: TransportError.self) { try await waiting.value }
        #expect(error?.code == .cancelled)
        #expect(try await listener.execute("SELECT 1").string(row: 0, column: 0) == "1")

        let closed = Task { try await listener.receiveNotifications() }
        try await Task.sleep(for: .milliseconds(50))
        await listener.close()
        let closing = await #expect(throws: TransportError.self) { try await closed.value }
        #expect(closing?.code == .connectionClosed)
    }

    @Test func aSessionTerminatedWhileWaitingThrowsWithTheServersCode() async throws {
        let listener = try await TestServer.connect()
        let killer = try await TestServer.connect()
        _ = try await listener.execute("LISTEN \(Self.channel())")
        let waiting = Task { try await listener.receiveNotifications() }
        _ = try await killer.execute(
            "SELECT pg_terminate_backend($1::int4)", parameters: [.text(String(listener.backendPID))]
        )
        let error = await #expect(throws: TransportError.self) { try await waiting.value }
        #expect(error?.code == .connectionLost)
        #expect(error?.sqlState == "57P01")
        #expect(error?.isConnectionUsable == false)
        await killer.close()
    }

    @Test func aTerminationReadTogetherWithNotificationsStillExplainsTheLoss() async throws {
        let listener = try await TestServer.connect()
        let other = try await TestServer.connect()
        let channel = Self.channel()
        _ = try await listener.execute("LISTEN \(channel)")
        // A notification the listener holds, then the server's FATAL on its socket. (A notification from another
        // session could be lost with the backend: one terminated before it is idle never sends it.)
        _ = try await listener.execute("SELECT pg_notify($1, 'last')", parameters: [.text(channel)])
        _ = try await other.execute(
            "SELECT pg_terminate_backend($1::int4, 30000)", parameters: [.text(String(listener.backendPID))]
        )
        let received = try await listener.receiveNotifications(until: .now.advanced(by: .seconds(30)))
        #expect(received.map(\.payload) == ["last"])
        let error = await #expect(throws: TransportError.self) {
            try await listener.receiveNotifications(until: .now.advanced(by: .seconds(30)))
        }
        #expect(error?.code == .connectionLost)
        #expect(error?.sqlState == "57P01")
        await other.close()
    }
}
