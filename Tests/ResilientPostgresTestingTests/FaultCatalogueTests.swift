import ResilientPostgres
import ResilientPostgresTesting
import Testing
import TestSupport

/// Each scripted fault reaches the client as FAULTS.md says libpq reports it, and is classified accordingly.
@Suite("Fault catalogue", .capturingLogs)
struct FaultCatalogueTests {
    struct Row<Fault: Sendable & CustomStringConvertible>: Sendable, CustomTestStringConvertible {
        let fault: Fault
        let errorClass: ErrorClass
        let sqlState: SQLState?
        let mayHaveBeenApplied: Bool

        init(_ fault: Fault, _ errorClass: ErrorClass, _ sqlState: SQLState? = nil, applied: Bool = false) {
            self.fault = fault
            self.errorClass = errorClass
            self.sqlState = sqlState
            self.mayHaveBeenApplied = applied
        }

        var testDescription: String { fault.description }
    }

    static let statementFaults: [Row<StatementFault>] = [
        Row(.connectionLostBeforeSend, .serverWentAway),
        Row(.connectionLostAfterSend, .outcomeUnknown, applied: true),
        Row(.immediateShutdown, .outcomeUnknown, "57P01", applied: true),
        Row(.committedLocallyThenLost, .outcomeUnknown, "57P01", applied: true),
        Row(.backendTerminated, .serverWentAway, "57P01"),
        Row(.serializationFailure, .transactionConflict, "40001"),
        Row(.deadlockDetected, .transactionConflict, "40P01"),
        Row(.lockTimeout, .transactionConflict, "55P03"),
        Row(.statementTimeout, .deadline, "57014"),
        Row(.readOnlyHost, .readOnlyHost, "25006"),
        Row(.readOnlyTransaction, .permanent, "25006"),
        // Met by a plain statement (the app's own prepared one): permanent; a cached statement's is retried.
        Row(.cachedPlanChanged, .permanent, "0A000"),
        Row(.sqlState("23505", message: "duplicate key value violates unique constraint"), .permanent, "23505"),
        Row(.sqlState("53300", message: "sorry, too many clients already", fatal: true), .resourceLimit, "53300"),
    ]

    static let connectFaults: [Row<ConnectFault>] = [
        Row(.connectionRefused, .unreachable),
        // The first connect of the client: the name never resolved for it.
        Row(.hostNotFound, .hostNotFound),
        Row(.nameResolutionFailed, .unreachable),
        Row(.tooManyConnections, .resourceLimit, "53300"),
        Row(.serverStarting, .serverUnavailable, "57P03"),
        Row(.serverShuttingDown, .serverUnavailable, "57P03"),
        Row(.readOnlySession, .readOnlyHost),
        Row(.authenticationFailed, .permanent, "28P01"),
        Row(.databaseMissing, .permanent, "3D000"),
        Row(.tlsUnsupported, .permanent),
        Row(
            .refused(sqlState: "57P03", message: "the database system is in recovery mode"), .serverUnavailable, "57P03"
        ),
    ]

    @Test(arguments: statementFaults)
    func statementFault(_ row: Row<StatementFault>) async throws {
        let database = ScriptedDatabase()
        database.fail("INSERT INTO payments", with: row.fault)
        // One attempt: what the first failure is, not what retrying makes of it.
        let client = PostgresClient.testing(database) { $0.retryPolicy.maxAttempts = 1 }

        let error = await #expect(throws: PostgresError.self) {
            try await client.execute(insertPayment("order-1", cents: 500))
        }
        #expect(error?.errorClass == row.errorClass)
        #expect(error?.sqlState == row.sqlState)
        #expect(error?.mayHaveBeenApplied == row.mayHaveBeenApplied)
        #expect(error?.lastFailure?.phase == (row.fault == .connectionLostBeforeSend ? .notSent : .sent))
        await client.shutdown()
    }

    @Test(arguments: connectFaults)
    func connectFault(_ row: Row<ConnectFault>) async throws {
        let database = ScriptedDatabase()
        database.failNextConnect(with: row.fault)
        let client = PostgresClient.testing(database) { $0.retryPolicy.maxAttempts = 1 }

        let error = await #expect(throws: PostgresError.self) {
            try await client.query("SELECT 1", options: .readOnly)
        }
        #expect(error?.errorClass == row.errorClass)
        #expect(error?.sqlState == row.sqlState)
        #expect(error?.lastFailure?.phase == .connecting)
        #expect(error?.lastFailure?.host == "db.test")
        #expect(error?.mayHaveBeenApplied == false)
        #expect(database.statements.isEmpty)
        await client.shutdown()
    }

    /// Which clause takes what `body` throws, written as an app writes them, with `import ResilientPostgres` alone.
    private func clause(_ body: () async throws -> Void) async -> String {
        do {
            try await body()
            return "none"
        } catch SQLState.uniqueViolation {
            return "unique"
        } catch SQLState.Class.integrityConstraintViolation {
            return "constraint"
        } catch let error as PostgresError where error.sqlState == .serializationFailure {
            return "serialization"
        } catch {
            return "other"
        }
    }

    /// An app matches a SQLSTATE by code or class, on the client's error and the connection's alike.
    @Test func appMatchesSQLStatesByCodeOrClassOnBothErrors() async throws {
        let database = ScriptedDatabase()
        database.fail("INSERT INTO users", with: .sqlState(.uniqueViolation), times: 2)
        database.fail("INSERT INTO orders", with: .sqlState(.foreignKeyViolation), times: 3)
        database.fail("INSERT INTO notes", with: .sqlState(.syntaxError), times: 2)
        database.fail("UPDATE accounts", with: .sqlState(.serializationFailure))
        let client = PostgresClient.testing(database) { $0.retryPolicy.maxAttempts = 1 }

        #expect(await clause { try await client.execute("INSERT INTO users VALUES (1)") } == "unique")
        #expect(await clause { try await client.execute("INSERT INTO orders VALUES (1)") } == "constraint")
        #expect(await clause { try await client.execute("INSERT INTO notes VALUES (1)") } == "other")
        #expect(await clause { try await client.execute("UPDATE accounts SET n = 1") } == "serialization")
        let inside = try await client.withConnection { connection in
            [
                await clause { try await connection.execute("INSERT INTO users VALUES (1)") },
                await clause { try await connection.execute("INSERT INTO orders VALUES (1)") },
                await clause { try await connection.execute("INSERT INTO notes VALUES (1)") },
            ]
        }
        #expect(inside == ["unique", "constraint", "other"])

        // In a switch, a class matches its codes; `==` compares exactly.
        let error = await #expect(throws: PostgresError.self) { try await client.execute("INSERT INTO orders VALUES (1)") }
        let state = try #require(error?.sqlState)
        switch state {
        case SQLState.Class.integrityConstraintViolation: break
        default: Issue.record("23503 is not matched by its class")
        }
        switch error?.sqlState {
        case "23": break
        default: Issue.record("23503 is not matched by the literal class")
        }
        #expect(state != SQLState.Class.integrityConstraintViolation)
        #expect(error?.statement == "INSERT INTO orders VALUES (1)")
        await client.shutdown()
    }
}
