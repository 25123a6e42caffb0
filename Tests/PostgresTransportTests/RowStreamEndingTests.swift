import PostgresTransport
import Testing
import TestSupport

/// A row stream whose server error arrives before the statement's end (`ReadyForQuery`), as when the end is still on
/// its way: the call that read the error hands over the rows read before it, and the next call waits for the end
/// and throws the error. Checked against libpq itself, with a fake server on loopback that holds the end back.
@Suite("A row stream's error read before its end", .capturingLogs)
struct RowStreamEndingTests {
    @Test func rowsBeforeAnErrorComeFirstAndTheErrorAtTheEnd() async throws {
        let server = try FakeServer(replies: [
            .answerEndingLater([
                .parseComplete, .bindComplete, .rowDescription(["name"]), .dataRow(["a"]), .dataRow(["b"]),
                .error(severity: "ERROR", sqlState: "22012", message: "division by zero"),
            ]),
            .answer([.parseComplete, .bindComplete, .rowDescription(["?column?"]), .dataRow(["after"]),
                .commandComplete("SELECT 1")]),
        ])
        defer { server.close() }
        let connection = try await LibPQConnection.connect(server.parameters, timeout: .seconds(5))
        try await connection.startRows("SELECT name FROM names")
        // The rows and the error are all there once the first rows are: the end alone is missing, and the rows are
        // handed over without waiting for it.
        var names: [String?] = []
        while names.count < 2, let batches = try await connection.nextRows() {
            for batch in batches {
                names += (0..<batch.rowCount).map { batch.string(row: $0, column: 0) }
            }
        }
        #expect(names == ["a", "b"])
        #expect(server.answerAhead([]))
        let error = await #expect(throws: TransportError.self) { try await connection.nextRows() }
        #expect(error?.sqlState == "22012")
        #expect(error?.isConnectionUsable == true)
        #expect(try await connection.nextRows() == nil)
        #expect(try await connection.execute("SELECT 'after'").string(row: 0, column: 0) == "after")
        await connection.close()
    }

    /// The same stream whose connection is closed while the error waits for the end: the next call throws the
    /// server's error, which is what ended the statement, and the session is not usable.
    @Test func aStreamClosedWhileItsErrorWaitsForTheEnd() async throws {
        let server = try FakeServer(replies: [
            .answerEndingLater([
                .parseComplete, .bindComplete, .rowDescription(["name"]), .dataRow(["a"]),
                .error(severity: "ERROR", sqlState: "22012", message: "division by zero"),
            ]),
        ])
        defer { server.close() }
        let connection = try await LibPQConnection.connect(server.parameters, timeout: .seconds(5))
        try await connection.startRows("SELECT name FROM names")
        var rows = 0
        while rows < 1, let batches = try await connection.nextRows() {
            rows += batches.reduce(0) { $0 + $1.rowCount }
        }
        #expect(rows == 1)
        await connection.close()
        let error = await #expect(throws: TransportError.self) { try await connection.nextRows() }
        #expect(error?.sqlState == "22012")
        #expect(error?.isConnectionUsable == false)
        #expect(try await connection.nextRows() == nil)
    }
}
