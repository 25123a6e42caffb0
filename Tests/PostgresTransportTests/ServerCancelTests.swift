import PostgresTransport
import Testing

/// A 57014 that the server sends of its own accord (`statement_timeout`, `pg_cancel_backend`, a `RAISE` with that
/// code) is the server's error, even on a connection whose earlier statement the client cancelled. A cancel request
/// belongs to the statement it was made for; a statement answered at its first read never made one. Checked against
/// libpq itself, with a fake server on loopback that writes the second answer before the statement is sent, so
/// that the whole answer is there at the first read.
@Suite("A cancel the server made", .capturingLogs)
struct ServerCancelTests {
    static let canceled = FakeServer.Message.error(
        severity: "ERROR", sqlState: "57014", message: "canceling statement due to user request"
    )

    @Test func aServerCancelAnsweredAtTheFirstReadAfterADeadlineCancelIsTheServers() async throws {
        let server = try FakeServer(replies: [.answerOnCancel([Self.canceled]), .answeredAhead])
        defer { server.close() }
        let connection = try await LibPQConnection.connect(server.parameters, timeout: .seconds(5))
        let first = await #expect(throws: TransportError.self) {
            try await connection.execute("SELECT pg_sleep(60)", deadline: .now.advanced(by: .milliseconds(100)))
        }
        #expect(first?.code == .deadlineExceeded)
        #expect(first?.isConnectionUsable == true)
        #expect(server.answerAhead([Self.canceled]))
        let second = await #expect(throws: TransportError.self) { try await connection.execute("SELECT 1") }
        #expect(second?.code == .server)
        #expect(second?.sqlState == "57014")
        #expect(second?.isConnectionUsable == true)
        await connection.close()
    }
}
