import ResilientPostgres
import ResilientPostgresTesting
import Testing

extension StreamTests {
    /// The session is lost once the end of the data was sent: the server may have applied the COPY, and the error
    /// says the outcome is unknown rather than that the data was cut short.
    @Test func aBareCopyWhoseAnswerIsLostHasAnUnknownOutcome() async throws {
        let database = ScriptedDatabase()
        database.interruptStream("COPY fruit", after: 3, with: .connectionLostAfterSend)
        let client = PostgresClient.testing(database)

        let error = await #expect(throws: PostgresError.self) {
            try await client.copyIn("COPY fruit FROM STDIN (FORMAT csv)", from: Self.chunks(3))
        }
        #expect(error?.reason == .outcomeUnknown)
        #expect(error?.mayHaveBeenApplied == true)
        #expect(error?.attempts == 1)
        await client.shutdown()
    }

    /// The session is terminated (FATAL) once the end of the data was sent: the server rolled the COPY back, as for
    /// any statement a FATAL answers, so the error says the data was cut short and nothing was applied.
    @Test func aBareCopyEndedByFatalWasNotApplied() async throws {
        let database = ScriptedDatabase()
        database.interruptStream("COPY fruit", after: 3, with: .backendTerminated)
        let client = PostgresClient.testing(database)

        let error = await #expect(throws: PostgresError.self) {
            try await client.copyIn("COPY fruit FROM STDIN (FORMAT csv)", from: Self.chunks(3))
        }
        #expect(error?.reason == .streamInterrupted)
        #expect(error?.mayHaveBeenApplied == false)
        #expect(error?.attempts == 1)
        await client.shutdown()
    }

    /// The session is lost while the COPY FROM STDIN statement is in flight, before the server accepted data: nothing
    /// can have been applied (the server applies a COPY only at the end of its data) and no chunk was read, so the
    /// start is retried even under `.write`.
    @Test func aBareCopyWhoseStartIsLostIsRetried() async throws {
        let database = ScriptedDatabase()
        database.fail("COPY fruit", with: .connectionLostAfterSend)
        let client = PostgresClient.testing(database)

        let copied = try await client.copyIn("COPY fruit FROM STDIN (FORMAT csv)", from: Self.chunks(3))
        #expect(copied == 3)
        #expect(database.copies.last?.isComplete == true)
        await client.shutdown()
    }

    /// A COPY lost once data flowed ends like any operation the loop gives up on: the attempt that failed before
    /// its data flowed comes first in its history, and each attempt is reported.
    @Test func anInterruptedCopysErrorListsEveryAttemptAndEachIsReported() async throws {
        let database = ScriptedDatabase()
        database.fail("COPY fruit", with: .connectionLostBeforeSend)
        database.interruptStream("COPY fruit", after: 1, with: .backendTerminated)
        let events = EventLog()
        let client = PostgresClient.testing(database) { $0.onAttempt = events.record }

        let error = await #expect(throws: PostgresError.self) {
            try await client.copyIn("COPY fruit FROM STDIN (FORMAT csv)", from: Self.chunks(3))
        }
        #expect(error?.reason == .streamInterrupted)
        #expect(error?.mayHaveBeenApplied == false)
        #expect(error?.attempts == 2)
        #expect(error?.history.map(\.number) == [1, 2])
        #expect(error?.lastFailure?.sqlState == "57P01")
        #expect(events.outcomes == [.willRetry(delay: .zero, reconnects: true), .gaveUp(.streamInterrupted)])
        #expect(database.copies.map(\.isComplete) == [false])
        await client.shutdown()
    }
}
