import ResilientPostgres
import ResilientPostgresTesting
import Testing
import TestSupport

/// An app's export of every item's id, in key order, resumed after the last id delivered when the stream fails:
/// the code a scripted stream interruption lets an app test without a server.
func exportItemIDs(_ client: PostgresClient, maximumInterruptions: Int = 3) async throws -> (ids: [Int], interruptions: [PostgresError]) {
    var ids: [Int] = []
    var interruptions: [PostgresError] = []
    while true {
        let last = ids.last ?? 0
        do {
            for try await row in try await client.rows(
                "SELECT id FROM items WHERE id > \(last) ORDER BY id", options: .readOnly
            ) {
                ids.append(try row.decode(Int.self, column: 0))
            }
            return (ids, interruptions)
        } catch let error as PostgresError where error.reason == .streamInterrupted {
            interruptions.append(error)
            if interruptions.count > maximumInterruptions { throw error }
        }
    }
}

extension ScriptedDatabase {
    /// Answers the export's query with the ids after its parameter, up to `count`.
    func answerItems(count: Int) {
        answer("SELECT id FROM items") { statement in
            let last = (try? statement.parameter(0, as: Int.self)) ?? 0
            return .rows(["id"], (last + 1...max(last + 1, count)).filter { $0 <= count }.map { [$0] })
        }
    }
}

@Suite("Row streams and COPY on a scripted database", .capturingLogs)
struct StreamTests {
    @Test func aStreamHandsOverEveryRowInBatches() async throws {
        let database = ScriptedDatabase()
        database.answerItems(count: 1_000)
        let client = PostgresClient.testing(database)

        let (ids, interruptions) = try await exportItemIDs(client)
        #expect(ids == Array(1...1_000))
        #expect(interruptions.isEmpty)
        #expect(database.statements(matching: "SELECT id FROM items").count == 1)
        await client.shutdown()
    }

    @Test func theResumeCodeResumesAfterTheLastRowDelivered() async throws {
        let database = ScriptedDatabase()
        database.answerItems(count: 1_000)
        database.interruptStream("SELECT id FROM items", after: 300, with: .backendTerminated)
        database.interruptStream("SELECT id FROM items", after: 500, with: .connectionLostAfterSend)
        let client = PostgresClient.testing(database)

        let (ids, interruptions) = try await exportItemIDs(client)
        // Every id once, in order: none read twice, none skipped.
        #expect(ids == Array(1...1_000))
        #expect(interruptions.map(\.rowsDelivered) == [300, 500])
        #expect(interruptions.allSatisfy { !$0.mayHaveBeenApplied })
        let resumedAfter = try database.statements(matching: "SELECT id FROM items").map {
            try $0.parameter(0, as: Int.self)
        }
        #expect(resumedAfter == [0, 300, 800])
        // The interrupted sessions were closed; the last one went back to the pool.
        #expect(database.closedSessions.count == 2)
        await client.shutdown()
    }

    @Test func aFailureBeforeTheFirstRowIsRetried() async throws {
        let database = ScriptedDatabase()
        database.answerItems(count: 10)
        database.interruptStream("SELECT id FROM items", after: 0, with: .backendTerminated)
        let client = PostgresClient.testing(database)

        let (ids, interruptions) = try await exportItemIDs(client)
        #expect(ids == Array(1...10))
        #expect(interruptions.isEmpty)
        #expect(database.statements(matching: "SELECT id FROM items").count == 2)
        await client.shutdown()
    }

    @Test func anInterruptedStreamsErrorListsTheAttemptsBeforeItsFirstRow() async throws {
        let database = ScriptedDatabase()
        database.answerItems(count: 100)
        database.interruptStream("SELECT id FROM items", after: 0, with: .backendTerminated)
        database.interruptStream("SELECT id FROM items", after: 5, with: .backendTerminated)
        let client = PostgresClient.testing(database)

        var received = 0
        let error = await #expect(throws: PostgresError.self) {
            for try await _ in try await client.rows("SELECT id FROM items WHERE id > \(0)", options: .readOnly) {
                received += 1
            }
        }
        #expect(received == 5 && error?.rowsDelivered == 5)
        // The attempt that failed before the first row, then the stream's own.
        #expect(error?.attempts == 2)
        #expect(error?.history.map(\.number) == [1, 2])
        #expect(error?.history.first?.delay != nil)
        await client.shutdown()
    }

    @Test func aResumeThatKeepsFailingGivesUp() async throws {
        let database = ScriptedDatabase()
        database.answerItems(count: 100)
        database.interruptStream("SELECT id FROM items", after: 1, times: 10)
        let client = PostgresClient.testing(database)

        let error = await #expect(throws: PostgresError.self) {
            try await exportItemIDs(client, maximumInterruptions: 2)
        }
        #expect(error?.rowsDelivered == 1)
        #expect(error?.reason == .streamInterrupted)
        await client.shutdown()
    }

    @Test func aCopyIsAcceptedAndRecorded() async throws {
        let database = ScriptedDatabase()
        let client = PostgresClient.testing(database)

        let lines = AsyncStream<[UInt8]> { continuation in
            continuation.yield(Array("1,apple\n".utf8))
            continuation.yield(Array("2,pear\n".utf8))
            continuation.finish()
        }
        let copied = try await client.copyIn("COPY fruit (id, name) FROM STDIN (FORMAT csv)", from: lines)
        #expect(copied == 2)
        let binary = try await client.copyIn(
            "COPY items (id, name) FROM STDIN (FORMAT binary)",
            rows: AsyncStream { continuation in
                for id in 1...50 { continuation.yield([id, "item \(id)"]) }
                continuation.finish()
            }
        )
        #expect(binary == 50)
        #expect(database.copies.count == 2)
        #expect(database.copies.map(\.isComplete) == [true, true])
        #expect(database.copies.first?.text == "1,apple\n2,pear\n")
        #expect(database.copies.last?.rowCount == 50)
        #expect(database.unscriptedStatements.isEmpty)
        await client.shutdown()
    }

    @Test func aBareCopyInterruptedIsNotRetried() async throws {
        let database = ScriptedDatabase()
        database.interruptStream("COPY fruit", after: 1, with: .connectionLostAfterSend)
        let client = PostgresClient.testing(database)

        let error = await #expect(throws: PostgresError.self) {
            try await client.copyIn("COPY fruit FROM STDIN (FORMAT csv)", from: Self.chunks(3))
        }
        #expect(error?.reason == .streamInterrupted)
        // The failure came before the end of the data: the server applied nothing.
        #expect(error?.mayHaveBeenApplied == false)
        #expect(database.copies.count == 1)
        #expect(database.copies.first?.isComplete == false)
        await client.shutdown()
    }

    @Test func aCopyWhoseAnswerIsLostIsOutcomeUnknown() async throws {
        let database = ScriptedDatabase()
        // After all 3 chunks: at the end of the data.
        database.interruptStream("COPY fruit", after: 3, with: .connectionLostAfterSend)
        let client = PostgresClient.testing(database)

        let error = await #expect(throws: PostgresError.self) {
            try await client.copyIn("COPY fruit FROM STDIN (FORMAT csv)", from: Self.chunks(3))
        }
        #expect(error?.mayHaveBeenApplied == true)
        #expect(database.copies.count == 1)
        await client.shutdown()
    }

    @Test func aCopyInATransactionBlockRunsAgainWhole() async throws {
        let database = ScriptedDatabase()
        database.interruptStream("COPY fruit", after: 2, with: .backendTerminated)
        let client = PostgresClient.testing(database)

        let copied = try await client.transaction { transaction in
            try await transaction.copyIn("COPY fruit FROM STDIN (FORMAT csv)", from: Self.chunks(4))
        }
        #expect(copied == 4)
        #expect(database.copies.map(\.isComplete) == [false, true])
        #expect(database.copies.last?.rowCount == 4)
        #expect(database.statements(matching: "COMMIT").count == 1)
        await client.shutdown()
    }

    @Test func aCopyOutHandsOverTheScriptedData() async throws {
        let database = ScriptedDatabase()
        database.answerCopy("COPY fruit", withText: "1,apple\n2,pear\n3,plum\n")
        let client = PostgresClient.testing(database)

        var text = ""
        for try await chunk in try await client.copyOut("COPY fruit TO STDOUT (FORMAT csv)", options: .readOnly) {
            text += String(decoding: chunk, as: UTF8.self)
        }
        #expect(text == "1,apple\n2,pear\n3,plum\n")
        await client.shutdown()
    }

    /// A COPY TO STDOUT cut short says how many CSV rows came, a value with a line break in it being one row.
    @Test func anInterruptedCopyOutCountsRowsNotChunks() async throws {
        let database = ScriptedDatabase()
        // Four chunks (one to a line), three rows: the second value of row 2 spans two lines.
        database.answerCopy("COPY notes", withText: "1,a\n2,\"two\nlines\"\n3,c\n4,d\n")
        database.interruptStream("COPY notes", after: 4)
        let client = PostgresClient.testing(database)

        var received = 0
        let error = await #expect(throws: PostgresError.self) {
            for try await _ in try await client.copyOut("COPY notes TO STDOUT (FORMAT csv)", options: .readOnly) {
                received += 1
            }
        }
        #expect(received == 4)
        #expect(error?.rowsDelivered == 3)
        await client.shutdown()
    }

    /// A scripted COPY counts CSV rows, not lines: a quoted line break is part of its value.
    @Test func aScriptedCopyCountsCSVRowsNotLines() async throws {
        let database = ScriptedDatabase()
        let client = PostgresClient.testing(database)
        let data = AsyncStream<[UInt8]> { continuation in
            continuation.yield(Array("1,\"two\nlines\"\n2,\"say \"\"hi\"\"\"\n".utf8))
            continuation.finish()
        }
        let copied = try await client.copyIn("COPY notes FROM STDIN (FORMAT csv)", from: data)
        #expect(copied == 2)
        #expect(database.copies.first?.rowCount == 2)
        await client.shutdown()
    }

    /// `count` CSV lines, one to a chunk.
    static func chunks(_ count: Int) -> AsyncStream<[UInt8]> {
        AsyncStream { continuation in
            for id in 1...count { continuation.yield(Array("\(id),fruit \(id)\n".utf8)) }
            continuation.finish()
        }
    }
}
