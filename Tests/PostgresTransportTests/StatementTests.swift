import Foundation
import Synchronization
import PostgresPolicy
import PostgresTransport
import Testing
import TestSupport

@Suite("Statements against a real server", .capturingLogs, .enabled(if: TestServer.isAvailable, TestServer.skipReason))
struct StatementTests {
    @Test func bindsParametersOfSeveralTypes() async throws {
        let connection = try await TestServer.connect()
        let result = try await connection.execute(
            "SELECT $1::int4 + 1, $2::text || '!', NOT $3::bool, $4::float8 * 2, $5::bytea, $6::text IS NULL, $7::int4",
            parameters: [
                .text("41"), .text("héllo wörld ✓"), .text("f"), .text("1.25"),
                .binary([0, 1, 2, 255], type: 17), .null(), .binary([0, 0, 1, 0], type: 23),
            ]
        )
        #expect(result.rowCount == 1)
        #expect(result.columnCount == 7)
        #expect(result.string(row: 0, column: 0) == "42")
        #expect(result.string(row: 0, column: 1) == "héllo wörld ✓!")
        #expect(result.string(row: 0, column: 2) == "t")
        #expect(result.string(row: 0, column: 3) == "2.5")
        #expect(result.string(row: 0, column: 4) == "\\x000102ff")
        #expect(result.string(row: 0, column: 5) == "t")
        #expect(result.string(row: 0, column: 6) == "256")
        #expect(result.columnType(0) == 23)
        #expect(result.columnType(1) == 25)
        #expect(result.commandTag == "SELECT 1")
        await connection.close()
    }

    @Test func readsBinaryResultsAndNulls() async throws {
        let connection = try await TestServer.connect()
        let result = try await connection.execute(
            "SELECT x::int8 AS n, NULLIF(x, 2)::int8 AS maybe FROM generate_series(1, 3) AS x",
            resultFormat: .binary
        )
        #expect(result.rowCount == 3)
        #expect(result.columnName(0) == "n")
        #expect(result.columnIndex(named: "maybe") == 1)
        #expect(result.columnFormat(0) == .binary)
        let values = (0..<3).map { row in
            result.withBytes(row: row, column: 0) { bytes in
                bytes.map { $0.reduce(Int64(0)) { $0 << 8 | Int64($1) } }
            }
        }
        #expect(values == [1, 2, 3])
        #expect(result.isNull(row: 1, column: 1))
        #expect(!result.isNull(row: 2, column: 1))
        await connection.close()
    }

    @Test func reportsAffectedRows() async throws {
        let connection = try await TestServer.connect()
        _ = try await connection.execute("CREATE TEMP TABLE t (id int)")
        let insert = try await connection.execute("INSERT INTO t SELECT generate_series(1, 5)")
        #expect(insert.affectedRows == 5)
        #expect(insert.commandTag == "INSERT 0 5")
        let create = try await connection.execute("CREATE TEMP TABLE u (id int)")
        #expect(create.affectedRows == nil)
        await connection.close()
    }

    @Test func syntaxErrorCarriesSQLStateAndPosition() async throws {
        let connection = try await TestServer.connect()
        let error = await #expect(throws: TransportError.self) {
            try await connection.execute("SELECT 1 FROM WHERE")
        }
        #expect(error?.code == .server)
        #expect(error?.sqlState == "42601")
        #expect(error?.severity == "ERROR")
        #expect(error?.position == 15)
        #expect(error?.phase == .sent)
        #expect(error?.isConnectionUsable == true)
        #expect(error?.port == Int(TestServer.port))
        // The connection goes on working.
        let result = try await connection.execute("SELECT 2")
        #expect(result.string(row: 0, column: 0) == "2")
        await connection.close()
    }

    @Test func rejectsNULInTextParameterBeforeSending() async throws {
        let connection = try await TestServer.connect()
        let error = await #expect(throws: TransportError.self) {
            try await connection.execute("SELECT $1::text", parameters: [.text("before\0after")])
        }
        #expect(error?.code == .invalidParameter)
        #expect(error?.phase == .notSent)
        #expect(error?.isConnectionUsable == true)
        #expect(error?.message.contains("$1") == true)
        // Nothing reached the server: the session is idle, and the next statement runs.
        #expect(await connection.transactionStatus == .idle)
        let result = try await connection.execute("SELECT $1::text", parameters: [.text("fine")])
        #expect(result.string(row: 0, column: 0) == "fine")
        await connection.close()
    }

    @Test func commitThatRolledBackIsAFailure() async throws {
        let connection = try await TestServer.connect()
        _ = try await connection.execute("BEGIN")
        await #expect(throws: TransportError.self) { try await connection.execute("SELECT 1 / 0") }
        #expect(await connection.transactionStatus == .failedTransaction)
        let error = await #expect(throws: TransportError.self) { try await connection.execute("COMMIT") }
        #expect(error?.code == .commitRolledBack)
        #expect(error?.isConnectionUsable == true)
        #expect(await connection.transactionStatus == .idle)
        await connection.close()
    }

    @Test func errorDescriptionNeverShowsBoundValues() async throws {
        let connection = try await TestServer.connect()
        let secret = "s3cr3t-value-\(UInt64.random(in: 0...UInt64.max))"
        let error = await #expect(throws: TransportError.self) {
            try await connection.execute("SELECT $1::int4", parameters: [.text(secret)])
        }
        #expect(error?.sqlState == "22P02")
        // The server's message quotes the value; the description must not.
        #expect(error?.message.contains(secret) == true)
        #expect(error.map { String(describing: $0) }?.contains(secret) == false)
        #expect(error.map { String(describing: $0) }?.contains("22P02") == true)
        await connection.close()
    }

    @Test func errorKeepsTheStatementButNeverItsValuesAndShowsItOnlyWhenReflected() async throws {
        let connection = try await TestServer.connect()
        let secret = "s3cr3t-value-\(UInt64.random(in: 0...UInt64.max))"
        let sql = "SELECT 'hand-written literal' || $1::int4"
        let error = await #expect(throws: TransportError.self) {
            try await connection.execute(sql, parameters: [.text(secret)])
        }
        #expect(error?.statement == sql)
        #expect(error?.sqlState == .invalidTextRepresentation)
        let description = error.map { String(describing: $0) } ?? ""
        #expect(!description.contains("hand-written literal"))
        #expect(!description.contains(secret))
        let reflected = error.map { String(reflecting: $0) } ?? ""
        #expect(reflected.contains(#", statement: "SELECT \'hand-written literal\' || $1::int4""#))
        // The script path keeps its text too; a failure before any statement keeps none.
        let script = await #expect(throws: TransportError.self) {
            try await connection.executeUnsafeScript("SELECT 1; SELECT 1 / 0")
        }
        #expect(script?.statement == "SELECT 1; SELECT 1 / 0")
        #expect(script?.sqlState == .divisionByZero)
        await connection.close()
        let closed = await #expect(throws: TransportError.self) { try await connection.execute(sql) }
        #expect(closed?.code == .connectionClosed)
        #expect(closed?.statement == nil)
    }

    @Test func sqlStatePatternsCatchTheConnectionsErrors() async throws {
        let connection = try await TestServer.connect()
        _ = try await connection.execute("CREATE TEMP TABLE keyed (id int PRIMARY KEY, note text NOT NULL)")
        _ = try await connection.execute("INSERT INTO keyed VALUES (1, 'one')")
        func clause(_ sql: String) async -> String {
            do {
                _ = try await connection.execute(sql)
                return "none"
            } catch SQLState.uniqueViolation {
                return "unique"
            } catch SQLState.Class.integrityConstraintViolation {
                return "constraint"
            } catch {
                return "other"
            }
        }
        #expect(await clause("INSERT INTO keyed VALUES (1, 'again')") == "unique")
        #expect(await clause("INSERT INTO keyed VALUES (2, NULL)") == "constraint")
        #expect(await clause("INSERT INTO keyed VALUES (2, 'two', 'extra')") == "other")
        #expect(await clause("INSERT INTO keyed VALUES (3, 'three')") == "none")
        await connection.close()
    }

    @Test func reportsSessionFacts() async throws {
        let connection = try await TestServer.connect()
        let pid = try await connection.execute("SELECT pg_backend_pid()")
        #expect(pid.string(row: 0, column: 0) == String(connection.backendPID))
        #expect(connection.serverVersion >= 140000)
        #expect(connection.host == TestServer.host)
        #expect(await connection.inHotStandby == false)
        #expect(await connection.parameterStatus("client_encoding") == "UTF8")
        _ = try await connection.execute("BEGIN")
        #expect(await connection.transactionStatus == .inTransaction)
        _ = try await connection.execute("ROLLBACK")
        await connection.close()
        #expect(await connection.isUsable == false)
        let error = await #expect(throws: TransportError.self) { try await connection.execute("SELECT 1") }
        #expect(error?.code == .connectionClosed)
        #expect(error?.phase == .notSent)
    }

    @Test func scriptRunsSeveralStatements() async throws {
        let connection = try await TestServer.connect()
        let result = try await connection.executeUnsafeScript(
            "CREATE TEMP TABLE s (v int); INSERT INTO s VALUES (1), (2); SELECT sum(v) FROM s"
        )
        #expect(result.string(row: 0, column: 0) == "3")
        await connection.close()
    }

    @Test func deliversNotices() async throws {
        let received = NoticeLog()
        let connection = try await TestServer.connect(options: .init(noticeHandler: { received.append($0) }))
        _ = try await connection.execute("DO $$ BEGIN RAISE WARNING 'careful' USING ERRCODE = '01000'; END $$")
        #expect(received.notices.map(\.message) == ["careful"])
        #expect(received.notices.first?.severity == "WARNING")
        #expect(received.notices.first?.sqlState == "01000")
        await connection.close()
    }
}

final class NoticeLog: Sendable {
    private let storage = Mutex<[Notice]>([])
    func append(_ notice: Notice) { storage.withLock { $0.append(notice) } }
    var notices: [Notice] { storage.withLock { $0 } }
}
