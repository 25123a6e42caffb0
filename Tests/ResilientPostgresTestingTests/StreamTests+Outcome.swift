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
}
