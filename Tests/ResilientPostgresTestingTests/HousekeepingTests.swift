import ResilientPostgres
import ResilientPostgresTesting
import Testing
import TestSupport

/// Idle timeout, lifetime and minimum idle sessions work whether or not the client runs as a `Service`.
@Suite("Housekeeping without a service", .capturingLogs)
struct HousekeepingTests {
    @Test func idleSessionsCloseAfterTheIdleTimeoutWithoutAService() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT balance", with: .value(100))
        let client = PostgresClient.testing(database) { $0.idleTimeout = .seconds(60) }

        async let first = client.query("SELECT balance FROM accounts", options: .readOnly)
        async let second = client.query("SELECT balance FROM accounts", options: .readOnly)
        _ = try await (first, second)
        for _ in 0..<200 where database.clock.pendingHousekeeping.isEmpty {
            try await Task.sleep(for: .milliseconds(5))
        }
        let opened = database.openSessions
        #expect(!opened.isEmpty)
        // Operations wait on sleeps a test steps through; the pool's timer is kept apart.
        #expect(database.clock.pendingSleeps.isEmpty)
        #expect(database.clock.pendingHousekeeping.count == 1)

        database.clock.advance(by: .seconds(59))
        try await Task.sleep(for: .milliseconds(20))
        #expect(database.openSessions == opened)
        database.clock.advance(by: .seconds(1))
        for _ in 0..<200 where !database.openSessions.isEmpty {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(database.openSessions.isEmpty)
        #expect(database.closedSessions.sorted() == opened)
        // Nothing left to do: the timer is gone until a session is idle again.
        #expect(database.clock.pendingHousekeeping.isEmpty)
        await client.shutdown()
    }

    @Test func sessionsPastTheirLifetimeCloseWhileIdle() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT balance", with: .value(100))
        let client = PostgresClient.testing(database) { configuration in
            configuration.idleTimeout = .seconds(3_600)
            configuration.maxLifetime = .seconds(120)
        }
        _ = try await client.query("SELECT balance FROM accounts", options: .readOnly)
        for _ in 0..<200 where database.clock.pendingHousekeeping.isEmpty {
            try await Task.sleep(for: .milliseconds(5))
        }
        database.clock.advance(by: .seconds(120))
        for _ in 0..<200 where !database.openSessions.isEmpty {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(database.closedSessions == [1])
        await client.shutdown()
    }

    @Test func sessionsOpenedTogetherAreReplacedAcrossTheJitterWindow() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT balance", with: .value(100))
        // Ten operations at once, each holding its session for a second: ten sessions open at the same instant.
        database.fail("SELECT balance", with: .slow(.seconds(1)), times: 10)
        let client = PostgresClient.testing(database, randomSeed: 7) { configuration in
            configuration.idleTimeout = .seconds(3_600)
            configuration.maxLifetime = .seconds(600)
            configuration.lifetimeJitter = 0.5
        }
        try await database.clock.run {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<10 {
                    group.addTask { _ = try await client.query("SELECT balance FROM accounts", options: .readOnly) }
                }
                try await group.waitForAll()
            }
        }
        #expect(database.connects.count == 10)
        #expect(database.connects.allSatisfy { $0.time == .zero })

        // Step from one housekeeping turn to the next, noting when each session closes.
        var closedAt: [Duration] = []
        while !database.openSessions.isEmpty {
            for _ in 0..<200 where database.clock.pendingHousekeeping.isEmpty {
                try await Task.sleep(for: .milliseconds(5))
            }
            let due = try #require(database.clock.pendingHousekeeping.first)
            let closed = database.closedSessions.count
            database.clock.advance(to: due)
            for _ in 0..<200 where database.closedSessions.count == closed {
                try await Task.sleep(for: .milliseconds(5))
            }
            let now = database.clock.elapsed
            closedAt += Array(repeating: now, count: database.closedSessions.count - closed)
        }
        // Every lifetime between 300 and 600 seconds, never above the maximum, and spread over the window rather
        // than all at once.
        #expect(closedAt.count == 10)
        #expect(closedAt.allSatisfy { $0 >= .seconds(300) && $0 <= .seconds(600) })
        #expect(Set(closedAt).count >= 8)
        #expect(closedAt.max()! - closedAt.min()! >= .seconds(150))
        await client.shutdown()
    }

    @Test func minimumIdleSessionsAreKeptWithoutAService() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT balance", with: .value(100))
        let client = PostgresClient.testing(database) { $0.minimumIdleConnections = 2 }
        _ = try await client.query("SELECT balance FROM accounts", options: .readOnly)
        // The housekeeping tops the idle sessions up to the minimum at its next turn.
        for _ in 0..<200 where database.clock.pendingHousekeeping.isEmpty {
            try await Task.sleep(for: .milliseconds(5))
        }
        let due = try #require(database.clock.pendingHousekeeping.first)
        database.clock.advance(to: due)
        for _ in 0..<200 where database.openSessions.count < 2 {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(database.openSessions.count == 2)
        await client.shutdown()
        #expect(database.openSessions.isEmpty)
    }

    @Test func sessionsAreNotKeptIdleWhileTheServerRefusesForWantOfSlots() async throws {
        let database = ScriptedDatabase()
        database.answer("SELECT balance", with: .value(100))
        database.failConnect(number: 2, with: .tooManyConnections)
        // The first query holds its session for a second, so that the second needs a session of its own.
        database.fail("SELECT balance", with: .slow(.seconds(1)))
        let client = PostgresClient.testing(database) { $0.maxConnections = 2 }

        // Two at once: the second connect is refused (53300), so the second operation waits for the first's session.
        let results = try await database.clock.run {
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        try await client.query("SELECT balance FROM accounts", options: .readOnly).decode(Int.self)[0]
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        #expect(results == [100, 100])
        #expect(database.connects.map(\.outcome) == [.opened, .failed])
        // With no one else waiting, the session went back to the server instead of sitting idle.
        #expect(database.openSessions.isEmpty, "\(database.connects) closed \(database.closedSessions)")
        await client.shutdown()
    }
}
