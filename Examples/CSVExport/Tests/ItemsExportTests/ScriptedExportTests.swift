import ItemsExport
import ResilientPostgres
import ResilientPostgresTesting
import Testing

/// The export's resume code, tested on a scripted database: no server, the same path every run.
@Suite("Export on a scripted database")
struct ScriptedExportTests {
    /// The items table of a scripted database: the rows after the query's key, up to 1,000.
    static func scriptedItems() -> ScriptedDatabase {
        let database = ScriptedDatabase()
        database.answer("SELECT id, name FROM items") { statement in
            let last = (try? statement.parameter(0, as: Int.self)) ?? 0
            return .rows(["id", "name"], stride(from: max(last, 0) + 1, through: 1_000, by: 1).map { [$0, "item \($0)"] })
        }
        return database
    }

    static let expected = "id,name\n" + (1...1_000).map { "\($0),item \($0)\n" }.joined()

    @Test func aFailurePartWayResumesAfterTheLastRowWritten() async throws {
        let database = Self.scriptedItems()
        database.interruptStream("SELECT id, name FROM items", after: 300, with: .backendTerminated)
        let client = PostgresClient.testing(database)

        var csv = ""
        let summary = try await ItemsExport(client: client).run { csv += $0 }
        #expect(csv == Self.expected, "every row once, in order")
        #expect(summary.rows == 1_000)
        #expect(summary.interruptions.map(\.rowsDelivered) == [300])
        let keys = try database.statements(matching: "SELECT id, name FROM items").map {
            try $0.parameter(0, as: Int.self)
        }
        #expect(keys == [Int.min, 300])
        await client.shutdown()
    }

    @Test func anExportThatKeepsFailingGivesUp() async throws {
        let database = Self.scriptedItems()
        database.interruptStream("SELECT id, name FROM items", after: 10, with: .connectionLostAfterSend, times: 5)
        let client = PostgresClient.testing(database)

        var csv = ""
        let error = await #expect(throws: PostgresError.self) {
            try await ItemsExport(client: client, maximumResumes: 2).run { csv += $0 }
        }
        #expect(error?.rowsDelivered == 10)
        #expect(csv.split(separator: "\n").count == 1 + 30)
        await client.shutdown()
    }

    @Test func fieldsAreQuotedAsCSVNeeds() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT id, name FROM items") { statement in
            let last = (try? statement.parameter(0, as: Int.self)) ?? 0
            return .rows(["id", "name"], last < 1 ? [[1, "a, \"quoted\" name"]] : [])
        }
        let client = PostgresClient.testing(database)

        var csv = ""
        _ = try await ItemsExport(client: client).run { csv += $0 }
        #expect(csv == "id,name\n1,\"a, \"\"quoted\"\" name\"\n")
        await client.shutdown()
    }

    /// The sample of `ScriptedDatabase.interruptStream(_:after:with:times:)`.
    @Test func theDocumentedScript() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT id FROM items") { statement in
            let last = (try? statement.parameter(0, as: Int.self)) ?? 0
            return .rows(["id"], (last + 1...1_000).map { [$0] })
        }
        database.interruptStream("SELECT id FROM items", after: 300, with: .backendTerminated)
        let client = PostgresClient.testing(database)

        var ids: [Int] = []
        var interruptions = 0
        while ids.last != 1_000 {
            do {
                for try await row in try await client.rows(
                    "SELECT id FROM items WHERE id > \(ids.last ?? 0) ORDER BY id", options: .readOnly
                ) {
                    ids.append(try row.decode(Int.self, column: 0))
                }
            } catch let error as PostgresError where error.reason == .streamInterrupted {
                interruptions += 1
            }
        }
        #expect(ids == Array(1...1_000))
        #expect(interruptions == 1)
        await client.shutdown()
    }
}
