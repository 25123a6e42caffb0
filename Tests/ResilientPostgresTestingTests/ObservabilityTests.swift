import CoreMetrics
import MetricsTestKit
import ResilientPostgres
import ResilientPostgresTesting
import Testing
import TestSupport

/// What a client tells the app about its attempts: the event callback and swift-metrics.
@Suite("Events and metrics", .capturingLogs)
struct ObservabilityTests {
    /// The process's metrics backend, bootstrapped once; each test reads its own label prefix.
    static let metrics: TestMetrics = {
        let metrics = TestMetrics()
        MetricsSystem.bootstrap(metrics)
        return metrics
    }()

    @Test func eventsFollowEveryAttemptWithTheWaitsTheClockSaw() async throws {
        let database = ScriptedDatabase()
        database.answer("UPDATE accounts", with: .updated(1))
        database.fail("UPDATE accounts", with: .serializationFailure, times: 2)
        let events = EventLog()
        let client = PostgresClient.testing(database, randomSeed: 42) { $0.onAttempt = events.record }

        let transaction = Task {
            try await client.transaction { tx in
                _ = try await tx.execute("UPDATE accounts SET balance = balance - \(100) WHERE id = \(1)")
            }
        }
        let first = try await database.clock.nextSleep()
        database.clock.advance(to: first.deadline)
        let second = try await database.clock.nextSleep()
        database.clock.advance(to: second.deadline)
        try await transaction.value

        #expect(events.outcomes == [
            .willRetry(delay: first.duration, reconnects: false),
            .willRetry(delay: second.duration, reconnects: false),
            .succeeded,
        ])
        #expect(events.all.map(\.attempt) == [1, 2, 3])
        #expect(events.all.map(\.errorClass) == [.transactionConflict, .transactionConflict, nil])
        #expect(events.all.map(\.sqlState) == ["40001", "40001", nil])
        #expect(events.all.map(\.host) == ["db.test", "db.test", "db.test"])
        #expect(events.all.map(\.elapsed) == [.zero, first.duration, first.duration + second.duration])
        await client.shutdown()
    }

    @Test func sameSeedGivesTheSameWaits() async throws {
        func waits(seed: UInt64) async throws -> [Duration] {
            let database = ScriptedDatabase()
            database.answer("UPDATE accounts", with: .updated(1))
            database.fail("UPDATE accounts", with: .serializationFailure, times: 3)
            let client = PostgresClient.testing(database, randomSeed: seed)
            let transaction = Task {
                try await client.transaction { tx in _ = try await tx.execute("UPDATE accounts SET balance = \(0)") }
            }
            var waits: [Duration] = []
            for _ in 0..<3 {
                let sleep = try await database.clock.nextSleep()
                waits.append(sleep.duration)
                database.clock.advance(to: sleep.deadline)
            }
            try await transaction.value
            await client.shutdown()
            return waits
        }
        let first = try await waits(seed: 7)
        #expect(try await waits(seed: 7) == first)
        #expect(try await waits(seed: 8) != first)
    }

    @Test func countersCountAttemptsRetriesAndGiveUps() async throws {
        let metrics = Self.metrics
        let prefix = "counters_test"
        let database = ScriptedDatabase()
        database.answer("INSERT INTO payments", with: .inserted(1))
        let client = PostgresClient.testing(database) { $0.metricsLabelPrefix = prefix }

        // Retried once, then succeeds: two attempts, one retry.
        database.fail("INSERT INTO payments", with: .connectionLostAfterSend)
        _ = try await client.execute(insertPayment("order-1", cents: 500), options: .idempotent)
        // Not retried: one attempt, one give-up.
        database.fail("INSERT INTO payments", with: .connectionLostAfterSend)
        await #expect(throws: PostgresError.self) { try await client.execute(insertPayment("order-2", cents: 700)) }

        #expect(metrics.counterTotal(label: "\(prefix)_attempts_total") == 3)
        #expect(metrics.counterTotal(
            label: "\(prefix)_retries_total", dimensions: [("class", ErrorClass.serverWentAway.name)]
        ) == 1)
        #expect(metrics.counterTotal(label: "\(prefix)_retries_total") == 1)
        #expect(metrics.counterTotal(
            label: "\(prefix)_give_ups_total",
            dimensions: [
                ("class", ErrorClass.outcomeUnknown.name), ("reason", "\(PostgresError.Reason.outcomeUnknown)"),
            ]
        ) == 1)
        #expect(metrics.counterTotal(label: "\(prefix)_give_ups_total") == 1)
        // Every attempt's wait for a session is timed, once a backend records it.
        #expect(try metrics.expectTimer("\(prefix)_pool_acquire_duration").values.count == 3)
        await client.shutdown()
    }
}
