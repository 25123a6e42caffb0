import ResilientPostgres
import ResilientPostgresTesting
import Testing
import TestSupport

/// `OperationOptions.verifiedCommit`: a lost `COMMIT` answer resolved by the commit marker, on the manual clock.
@Suite("Verified commits", .capturingLogs)
struct VerifiedCommitTests {
    static let markerTable = "resilient_postgres_commit_markers"

    static func database() -> (ScriptedDatabase, ScriptedCommitMarkers) {
        let database = ScriptedDatabase()
        database.answer("INSERT INTO payments", with: .inserted(1))
        database.answer("UPDATE accounts", with: .updated(1))
        return (database, database.keepCommitMarkers())
    }

    /// Whether `text` is a UUID in PostgreSQL's canonical form: 32 lowercase hex digits in groups of 8-4-4-4-12.
    static func isUUID(_ text: String) -> Bool {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        return groups.map(\.count) == [8, 4, 4, 4, 12]
            && groups.allSatisfy { $0.allSatisfy { "0123456789abcdef".contains($0) } }
    }

    /// A payment and a debit in one block, counting its runs.
    static func pay(_ runs: Counter) -> (PostgresTransaction) async throws -> sending String {
        { tx in
            let run = runs.increment()
            try await tx.execute(Self.insertPayment("order-1", cents: 500))
            try await tx.execute("UPDATE accounts SET balance = balance - \(500) WHERE id = \(1)")
            return "receipt-\(run)"
        }
    }

    @Test func transactionCommitsWithItsMarkerInTheCommitRoundTrip() async throws {
        let (database, markers) = Self.database()
        let client = PostgresClient.testing(database)

        let receipt = try await client.transaction(options: .verifiedCommit, Self.pay(Counter()))

        #expect(receipt == "receipt-1")
        #expect(markers.committedMarkers.count == 1)
        // The marker is the block's last statement, right before its COMMIT, into the table as found, schema and all.
        let log = database.statements.map(\.sql)
        #expect(log.suffix(2).map { String($0.prefix(47)) } == [
            "INSERT INTO public.resilient_postgres_commit_ma", "COMMIT",
        ])
        #expect(markers.claims == 0)
        await client.shutdown()
    }

    @Test func lostCommitThatLandedReturnsTheBlocksValue() async throws {
        let (database, markers) = Self.database()
        markers.loseNextCommit(.applied)
        let events = EventLog()
        let client = PostgresClient.testing(database) { $0.onAttempt = events.record }
        let runs = Counter()

        let receipt = try await client.transaction(options: .verifiedCommit, Self.pay(runs))

        #expect(receipt == "receipt-1")
        #expect(runs.count == 1)
        #expect(markers.claims == 1)
        // The client's own statements (the table's look-up, the check) are no attempts of the app's.
        #expect(events.outcomes == [.verifiedApplied])
        await client.shutdown()
    }

    @Test func lostCommitThatDidNotLandRunsTheBlockAgain() async throws {
        let (database, markers) = Self.database()
        markers.loseNextCommit(.notApplied)
        let events = EventLog()
        let client = PostgresClient.testing(database) { $0.onAttempt = events.record }
        let runs = Counter()

        let receipt = try await client.transaction(options: .verifiedCommit, Self.pay(runs))

        #expect(receipt == "receipt-2")
        #expect(runs.count == 2)
        // One transaction committed; the first attempt's id is held by the claim, so it can never commit.
        #expect(markers.committedMarkers.count == 1)
        let ids = try database.statements(matching: markers.marker).map { try $0.parameter(0, as: String.self) }
        #expect(ids.count == 2 && ids[0] != ids[1])
        #expect(ids.allSatisfy(Self.isUUID))
        #expect(try database.statements(matching: markers.claim).map { try $0.parameter(0, as: String.self) } == [ids[0]])
        #expect(events.outcomes == [.verifiedNotApplied, .succeeded])
        await client.shutdown()
    }

    @Test func commitStillRunningOnTheOldSessionIsWaitedFor() async throws {
        let (database, markers) = Self.database()
        markers.loseNextCommit(.stillRunning)
        let client = PostgresClient.testing(database)
        let runs = Counter()

        let receipt = try await client.transaction(options: .verifiedCommit, Self.pay(runs))

        // The claim waited for the COMMIT still running, which landed: applied, never run twice.
        #expect(receipt == "receipt-1")
        #expect(runs.count == 1)
        #expect(markers.committedMarkers.count == 1)
        await client.shutdown()
    }

    @Test func newPrimaryWithoutTheMarkerRunsTheBlockAgain() async throws {
        let (database, markers) = Self.database()
        markers.loseNextCommit(.appliedOnOldPrimary)
        let client = PostgresClient.testing(database)
        let runs = Counter()
        let block = Self.pay(runs)

        let receipt = try await client.transaction(options: .verifiedCommit) { tx in
            // Sessions opened from now on, after the old primary's COMMIT, are on the promoted standby.
            if runs.count == 0 { database.host = "standby.test" }
            return try await block(tx)
        }

        #expect(receipt == "receipt-2")
        #expect(runs.count == 2)
        // The check and the second run happened on the new primary, which has the second run's marker only.
        #expect(database.statements(matching: markers.claim).map(\.host) == ["standby.test"])
        #expect(database.statements(matching: markers.marker).map(\.host) == ["db.test", "standby.test"])
        #expect(markers.committedMarkers.count == 1)
        await client.shutdown()
    }

    @Test func failoverLosesEveryMarkerCommittedBefore() async throws {
        let (database, markers) = Self.database()
        let client = PostgresClient.testing(database)
        _ = try await client.transaction(options: .verifiedCommit, Self.pay(Counter()))
        #expect(markers.committedMarkers.count == 1)

        markers.failOver()

        #expect(markers.committedMarkers.isEmpty)
        await client.shutdown()
    }

    @Test func checkLandsOnAnotherSessionThanTheWrite() async throws {
        // As behind a pooler: nothing ties the check to the session, or the server process, that sent COMMIT.
        let (database, markers) = Self.database()
        markers.loseNextCommit(.applied)
        let client = PostgresClient.testing(database)

        _ = try await client.transaction(options: .verifiedCommit, Self.pay(Counter()))

        let marker = try #require(database.statements(matching: markers.marker).first)
        let claim = try #require(database.statements(matching: markers.claim).first)
        #expect(claim.connection != marker.connection)
        #expect(markers.committedMarkers.count == 1)
        await client.shutdown()
    }

    @Test func checkThatOutlastsTheBudgetLeavesTheOutcomeUnknown() async throws {
        let (database, markers) = Self.database()
        markers.loseNextCommit(.applied)
        database.fail(markers.claim, with: .hang, times: 10)
        let client = PostgresClient.testing(database) { $0.retryPolicy.budget = .seconds(5) }
        let runs = Counter()

        let transfer = Task { try await client.transaction(options: .verifiedCommit, Self.pay(runs)) }
        while true {
            let sleep = try await database.clock.nextSleep()
            database.clock.advance(to: sleep.deadline)
            if database.clock.elapsed >= .seconds(5) { break }
        }
        let error = await #expect(throws: PostgresError.self) { try await transfer.value }
        #expect(error?.errorClass == .outcomeUnknown)
        #expect(error?.mayHaveBeenApplied == true)
        #expect(runs.count == 1)
        await client.shutdown()
    }

    @Test func firstUseOfTheMarkerTableSpendsTheOperationsBudget() async throws {
        let (database, markers) = Self.database()
        database.fail(markers.lookUpTable, with: .slow(.seconds(8)))
        database.fail("BEGIN", with: .hang)
        let client = PostgresClient.testing(database) { $0.retryPolicy.budget = .seconds(10) }

        let transfer = Task { try await client.transaction(options: .verifiedCommit, Self.pay(Counter())) }
        while database.clock.elapsed < .seconds(10) {
            let sleep = try await database.clock.nextSleep()
            database.clock.advance(to: sleep.deadline)
        }
        let error = await #expect(throws: PostgresError.self) { try await transfer.value }
        // The table's look-up took 8 of the 10 seconds: the block had the 2 left, not a budget of its own.
        #expect(error?.errorClass == .deadline)
        #expect(database.clock.elapsed == .seconds(10))
        await client.shutdown()
    }

    @Test func runningAgainKeepsToTheAttemptLimit() async throws {
        let (database, markers) = Self.database()
        markers.loseNextCommit(.notApplied, times: 2)
        let client = PostgresClient.testing(database) { $0.retryPolicy.maxAttempts = 2 }
        let runs = Counter()

        let error = await #expect(throws: PostgresError.self) {
            try await client.transaction(options: .verifiedCommit, Self.pay(runs))
        }
        #expect(error?.reason == .attemptLimitReached)
        // Both lost attempts were found not applied: nothing is in doubt.
        #expect(error?.mayHaveBeenApplied == false)
        #expect(runs.count == 2)
        #expect(markers.committedMarkers.isEmpty)
        await client.shutdown()
    }

    @Test func singleWriteRunsWithItsMarkerAsOneTransaction() async throws {
        let (database, markers) = Self.database()
        let client = PostgresClient.testing(database)

        let count = try await client.execute(Self.insertPayment("order-1", cents: 500), options: .verifiedCommit)

        #expect(count == 1)
        #expect(markers.committedMarkers.count == 1)
        let log = database.statements.map(\.sql).filter { !$0.hasPrefix("SELECT format") }
        #expect(log.map { String($0.prefix(20)) } == [
            "BEGIN", "INSERT INTO payments", "INSERT INTO public.r", "COMMIT",
        ])
        await client.shutdown()
    }

    @Test func eachMarkerCarriesItsOwnExpiry() async throws {
        // Clients with different budgets share the table: each keeps its markers as long as its own checks need.
        let (database, markers) = Self.database()
        let client = PostgresClient.testing(database) { $0.retryPolicy.budget = .seconds(7200) }

        try await client.execute(Self.insertPayment("order-1", cents: 500), options: .verifiedCommit)

        let marker = try #require(database.statements(matching: markers.marker).first)
        #expect(marker.sql.contains("clock_timestamp()"))
        #expect(try marker.parameter(1, as: String.self) == "72000")
        await client.shutdown()
    }

    @Test func singleWriteFoundAppliedIsNotRunAgain() async throws {
        let (database, markers) = Self.database()
        markers.loseNextCommit(.applied)
        let events = EventLog()
        let client = PostgresClient.testing(database) { $0.onAttempt = events.record }

        let count = try await client.execute(Self.insertPayment("order-1", cents: 500), options: .verifiedCommit)

        // The count went with the lost answer.
        #expect(count == 0)
        #expect(database.statements(matching: "INSERT INTO payments").count == 1)
        #expect(events.outcomes.last == .verifiedApplied)
        await client.shutdown()
    }

    @Test func singleWriteNotAppliedRunsOnceMore() async throws {
        let (database, markers) = Self.database()
        markers.loseNextCommit(.notApplied)
        let client = PostgresClient.testing(database)

        let count = try await client.execute(Self.insertPayment("order-1", cents: 500), options: .verifiedCommit)

        #expect(count == 1)
        #expect(database.statements(matching: "INSERT INTO payments").count == 2)
        #expect(markers.committedMarkers.count == 1)
        await client.shutdown()
    }

    @Test func markerTableIsCreatedOnFirstUseOnly() async throws {
        let (database, markers) = Self.database()
        markers.dropTable()
        let client = PostgresClient.testing(database)

        try await client.execute(Self.insertPayment("order-1", cents: 500), options: .verifiedCommit)
        try await client.execute(Self.insertPayment("order-2", cents: 500), options: .verifiedCommit)

        // Looked up, created with its index, looked up again for its schema.
        #expect(database.statements(matching: markers.lookUpTable).count == 2)
        #expect(database.statements(matching: markers.createTable).count == 1)
        #expect(database.statements(matching: .prefix("CREATE INDEX IF NOT EXISTS")).count == 1)
        await client.shutdown()
    }

    @Test func droppedMarkerTableIsCreatedAgainByTheNextWrite() async throws {
        let (database, markers) = Self.database()
        let client = PostgresClient.testing(database)
        try await client.execute(Self.insertPayment("order-1", cents: 500), options: .verifiedCommit)

        markers.dropTable()
        let error = await #expect(throws: PostgresError.self) {
            try await client.execute(Self.insertPayment("order-2", cents: 500), options: .verifiedCommit)
        }
        #expect(error?.lastFailure?.sqlState == .undefinedTable)
        #expect(error?.mayHaveBeenApplied == false)
        try await client.execute(Self.insertPayment("order-3", cents: 500), options: .verifiedCommit)

        #expect(database.statements(matching: markers.createTable).count == 1)
        #expect(markers.committedMarkers.count == 1)
        await client.shutdown()
    }

    @Test func blockThatWentOnAfterAnErrorIsRolledBackNotBlamedOnItsMarker() async throws {
        let (database, markers) = Self.database()
        database.fail("INSERT INTO payments", with: .sqlState("23505", message: "duplicate key value"))
        let client = PostgresClient.testing(database)

        let error = await #expect(throws: PostgresError.self) {
            try await client.transaction(options: .verifiedCommit) { tx in
                // The app catches the error and goes on: the block has failed, and its COMMIT rolls back.
                _ = try? await tx.execute(Self.insertPayment("order-1", cents: 500))
                return 1
            }
        }
        #expect(error?.lastFailure?.code == .commitRolledBack)
        #expect(error?.mayHaveBeenApplied == false)
        #expect(markers.committedMarkers.isEmpty)
        await client.shutdown()
    }

    @Test func missingTableThatCannotBeCreatedFailsClearly() async throws {
        let (database, markers) = Self.database()
        markers.dropTable()
        database.fail(markers.createTable, with: .sqlState("42501", message: "permission denied for schema public"))
        let client = PostgresClient.testing(database)

        let error = await #expect(throws: PostgresError.self) {
            try await client.execute(Self.insertPayment("order-1", cents: 500), options: .verifiedCommit)
        }
        #expect(error?.errorClass == .permanent)
        #expect(error?.mayHaveBeenApplied == false)
        #expect(error?.lastFailure?.message.contains("commit marker table") == true)
        #expect(error?.lastFailure?.hint?.contains("CREATE TABLE IF NOT EXISTS \(Self.markerTable)") == true)
        #expect(database.statements(matching: "INSERT INTO payments").isEmpty)
        await client.shutdown()
    }

    @Test func oldMarkersArePrunedInTheBackground() async throws {
        let (database, markers) = Self.database()
        let client = PostgresClient.testing(database)

        try await client.execute(Self.insertPayment("order-1", cents: 500), options: .verifiedCommit)
        #expect(database.statements(matching: "DELETE FROM").isEmpty)
        database.clock.advance(by: .seconds(301))
        try await client.execute(Self.insertPayment("order-2", cents: 500), options: .verifiedCommit)

        // The prune follows the write's last statement, on a task of its own.
        let writes = database.statements.filter { !$0.sql.hasPrefix("DELETE") }.count
        let prune = try await database.waitForStatements(count: writes + 1).first { $0.sql.hasPrefix("DELETE") }
        #expect(prune.map { markers.prune.matches($0) } == true)
        #expect(prune?.sql.contains("WHERE expires_at < now()") == true)
        #expect(prune?.sql.contains("SKIP LOCKED") == true)
        await client.shutdown()
    }

    @Test func pruningGoesOnInBatchesUntilItCatchesUp() async throws {
        let (database, markers) = Self.database()
        let batches = Counter()
        // Two full batches, then the rest.
        database.answer(markers.prune) { _ in
            batches.increment() <= 2 ? .deleted(1000) : .deleted(7)
        }
        let client = PostgresClient.testing(database)

        try await client.execute(Self.insertPayment("order-1", cents: 500), options: .verifiedCommit)
        database.clock.advance(by: .seconds(301))
        try await client.execute(Self.insertPayment("order-2", cents: 500), options: .verifiedCommit)

        let writes = database.statements.filter { !$0.sql.hasPrefix("DELETE") }.count
        let statements = try await database.waitForStatements(count: writes + 3)
        #expect(statements.filter { $0.sql.hasPrefix("DELETE") }.count == 3)
        await client.shutdown()
        #expect(batches.count == 3)
    }
}
