import PostgresTransport
import Testing
import TestSupport

/// A session terminated right after its statement was answered: PostgreSQL acts on a pending `pg_terminate_backend`
/// when it next reads from the client, which for a statement sent with `PQsendQueryParams` is the `Sync` after it.
/// The server then sends the statement's answer, a FATAL 57P01 and no `ReadyForQuery`. The answer to `COMMIT` is
/// final (its `Sync` is read after the commit); for any other statement, the implicit commit done at `Sync` may or
/// may not have happened. Checked against libpq itself, with a fake server on loopback.
@Suite("A statement answered, then its session terminated", .capturingLogs)
struct AnsweredThenTerminatedTests {
    @Test func commitAnsweredThenTerminatedSucceeds() async throws {
        let (server, connection) = try await connect(answering: [
            .parseComplete, .bindComplete, .noData, .commandComplete("COMMIT"), .terminated,
        ])
        defer { server.close() }
        let result = try await connection.execute("COMMIT")
        #expect(result.commandTag == "COMMIT")
        #expect(server.receivedStatement == "COMMIT")
        #expect(await connection.isUsable == false)
        await connection.close()
    }

    @Test func writeAnsweredThenTerminatedCameAfterTheAnswer() async throws {
        let (server, connection) = try await connect(answering: [
            .parseComplete, .bindComplete, .noData, .commandComplete("INSERT 0 1"), .terminated,
        ])
        defer { server.close() }
        let error = await #expect(throws: TransportError.self) {
            try await connection.execute("INSERT INTO payments VALUES (1)")
        }
        #expect(error?.code == .server)
        #expect(error?.sqlState == "57P01")
        #expect(error?.severity == "FATAL")
        #expect(error?.cameAfterAnswer == true)
        #expect(error?.phase == .sent)
        #expect(error?.isConnectionUsable == false)
        #expect(await connection.isUsable == false)
        await connection.close()
    }

    @Test func commitTerminatedBeforeItsAnswerIsInFlight() async throws {
        let (server, connection) = try await connect(answering: [.parseComplete, .bindComplete, .terminated])
        defer { server.close() }
        let error = await #expect(throws: TransportError.self) { try await connection.execute("COMMIT") }
        #expect(error?.code == .server)
        #expect(error?.sqlState == "57P01")
        #expect(error?.severity == "FATAL")
        #expect(error?.cameAfterAnswer == false)
        #expect(error?.phase == .commitInFlight)
        #expect(error?.isConnectionUsable == false)
        await connection.close()
    }

    @Test func commitAnsweredRollbackThenTerminatedRolledBack() async throws {
        let (server, connection) = try await connect(answering: [
            .parseComplete, .bindComplete, .noData, .commandComplete("ROLLBACK"), .terminated,
        ])
        defer { server.close() }
        let error = await #expect(throws: TransportError.self) { try await connection.execute("COMMIT") }
        #expect(error?.code == .commitRolledBack)
        #expect(error?.cameAfterAnswer == false)
        #expect(error?.isConnectionUsable == false)
        await connection.close()
    }

    /// A fake server answering one statement with `answer`, and a session with it.
    private func connect(
        answering answer: [FakeServer.Message]
    ) async throws -> (FakeServer, LibPQConnection) {
        let server = try FakeServer(answer: answer)
        do {
            return (server, try await LibPQConnection.connect(server.parameters, timeout: .seconds(5)))
        } catch {
            server.close()
            throw error
        }
    }
}
