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
        let sqlState: String?
        let mayHaveBeenApplied: Bool

        init(_ fault: Fault, _ errorClass: ErrorClass, _ sqlState: String? = nil, applied: Bool = false) {
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
}
