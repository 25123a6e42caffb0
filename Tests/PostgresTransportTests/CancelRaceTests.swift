import Foundation
import PostgresTransport
import Testing
import TestSupport

@Suite("Cancels racing the end of their statement", .capturingLogs, .enabled(if: TestServer.isAvailable, TestServer.skipReason))
struct CancelRaceTests {
    /// The ways a statement can run on a connection: `execute` and `prepared` as the client runs them, started in
    /// the caller's job when it runs on the connection's thread.
    enum EntryPoint: CaseIterable {
        case execute, unsafeScript, prepared, batch

        func run(_ sql: String, on connection: LibPQConnection, deadline: ContinuousClock.Instant?) async throws
            -> String?
        {
            switch self {
            case .execute:
                try await connection.executeInPlace(sql, deadline: deadline).string(row: 0, column: 0)
            case .unsafeScript:
                try await connection.executeUnsafeScript(sql, deadline: deadline).string(row: 0, column: 0)
            case .prepared:
                try await connection.executeInPlace(prepared: true, sql, deadline: deadline)
                    .string(row: 0, column: 0)
            case .batch:
                try await connection.executeBatch([BatchStatement(sql)], deadline: deadline).first?
                    .string(row: 0, column: 0)
            }
        }
    }

    /// A cancel request, from the task or from the deadline, that reaches the server after its statement finished
    /// must not cancel the next statement on the session, whichever way either of them runs; and whether the next
    /// one is sent from another thread or from the connection's own, where it starts without entering the actor.
    @Test(arguments: [false, true])
    func lateCancelNeverHitsTheNextStatement(fromTheConnectionsThread: Bool) async throws {
        var connection = try await TestServer.connect()
        let thread = fromTheConnectionsThread ? connection.ioThread.taskExecutor : nil
        try await withTaskExecutorPreference(thread) {
            try await Self.raceLateCancels(&connection)
        }
        await connection.close()
    }

    private static func raceLateCancels(_ connection: inout LibPQConnection) async throws {
        let entryPoints = EntryPoint.allCases
        var innocentFailures: [String] = []
        var reconnects = 0
        for round in 0..<800 {
            let victimEntry = entryPoints[round % entryPoints.count]
            let nextEntry = entryPoints[(round / entryPoints.count) % entryPoints.count]
            let delay = Duration.microseconds(Int.random(in: 0...4_000))
            if round.isMultiple(of: 2) {
                let session = connection
                let victim = Task { try await victimEntry.run("SELECT pg_sleep(0.002)", on: session, deadline: nil) }
                try await Task.sleep(for: delay)
                victim.cancel()
                _ = await victim.result
            } else {
                _ = try? await victimEntry.run("SELECT pg_sleep(0.002)", on: connection, deadline: .now + delay)
            }
            if await !connection.isUsable {
                // Not the race under test: a cancelled batch may close the session so that no part of it commits.
                await connection.close()
                connection = try await TestServer.connect()
                reconnects += 1
                continue
            }
            do {
                let count = try await nextEntry.run(
                    "SELECT count(*) FROM generate_series(1, 20000)", on: connection, deadline: nil
                )
                if count != "20000" { innocentFailures.append("\(nextEntry): wrong count") }
            } catch {
                innocentFailures.append("\(nextEntry) after \(victimEntry): \(error)")
            }
        }
        let firstFailure = innocentFailures.first ?? ""
        #expect(innocentFailures.isEmpty, "\(innocentFailures.count) statements failed, first: \(firstFailure)")
        #expect(reconnects < 80)
    }
}
