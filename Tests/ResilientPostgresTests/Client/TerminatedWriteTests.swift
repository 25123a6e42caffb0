import PostgresTransport
import ResilientPostgres
import Synchronization
import Testing
import TestSupport

/// A plain write whose session is terminated while it runs (FATAL 57P01 answering it) was rolled back by the server:
/// it is retried, and applied once.
@Suite("A write cut off by FATAL 57P01", .capturingLogs, .enabled(if: ClientTestServer.isAvailable, ClientTestServer.skipReason))
struct TerminatedWriteTests {
    @Test func writeTerminatedWhileItRunsIsRetriedAndAppliedOnce() async throws {
        let table = ClientTestServer.uniqueTable("terminated")
        let application = ClientTestServer.uniqueTable("victim")
        let admin = try await ClientTestServer.session()
        _ = try await admin.execute("CREATE TABLE \(table) (key text NOT NULL)")
        let attempts = Mutex<[AttemptEvent]>([])
        let client = PostgresClient(configuration: ClientTestServer.configuration { configuration in
            configuration.connection["application_name"] = application
            configuration.onAttempt = { event in attempts.withLock { $0.append(event) } }
        })

        let write = Task {
            try await client.execute("INSERT INTO \(unsafeRaw: table) (key) SELECT \("k") FROM pg_sleep(1)")
        }
        // Terminated once the server runs the write (a fixed pause may end before a loaded machine sent it).
        let until = ContinuousClock.now.advanced(by: .seconds(10))
        while ContinuousClock.now < until {
            let running = try await admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state = 'active'",
                parameters: [.text(application)]
            )
            if running.string(row: 0, column: 0) == "1" { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        _ = try await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            parameters: [.text(application)]
        )
        #expect(try await write.value == 1)
        let count = try await admin.execute("SELECT count(*) FROM \(table)")
        #expect(count.string(row: 0, column: 0) == "1")
        let events = attempts.withLock { $0 }
        #expect(events.first?.sqlState == "57P01")
        #expect(events.count == 2)
        _ = try await admin.execute("DROP TABLE \(table)")
        await admin.close()
        await client.shutdown()
    }
}
