import Logging
import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

@Suite("Cancels against a real server", .capturingLogs, .enabled(if: ClientTestServer.isAvailable, ClientTestServer.skipReason))
struct CancelStormTests {
    /// A cancel sent for one operation must never fail the next one on the same session.
    ///
    /// With one session in the pool, every operation runs on the session the cancelled one used. The cancel comes at
    /// a random moment: before the statement is sent, while it runs, or just after it finished, when the cancel
    /// request may still be on its way to the server as the next operation starts.
    @Test func cancelsNeverReachTheNextOperation() async throws {
        let client = PostgresClient(configuration: ClientTestServer.configuration { configuration in
            configuration.maxConnections = 1
            configuration.logger = Logger(label: "cancel-storm") { _ in SwiftLogNoOpLogHandler() }
        })
        let read: PostgresQuery = "SELECT count(*)::int FROM generate_series(1, 20000)"
        var innocentFailures: [String] = []
        var cancelled = 0
        var finishedFirst = 0
        for _ in 0..<1_500 {
            let victim = Task { try await client.execute("SELECT pg_sleep(0.002)") }
            try await Task.sleep(for: .microseconds(Int.random(in: 0...4_000)))
            victim.cancel()
            // The read queues for the session at once, so it gets it the moment the cancelled operation returns it.
            do {
                let rows = try await client.query(read, options: .readOnly)
                if try rows.decode(Int.self) != [20_000] { innocentFailures.append("wrong rows") }
            } catch {
                innocentFailures.append(String(describing: error))
            }
            switch await victim.result {
            case .success: finishedFirst += 1
            case .failure: cancelled += 1
            }
        }
        let firstFailure = innocentFailures.first ?? ""
        #expect(innocentFailures.isEmpty, "\(innocentFailures.count) reads failed, first: \(firstFailure)")
        // Both sides of the race were run: some cancels came in time, some after the statement had finished.
        #expect(cancelled > 0)
        #expect(finishedFirst > 0)
        await client.shutdown()
    }
}
