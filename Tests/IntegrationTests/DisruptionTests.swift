import Foundation
import Logging
import PostgresTransport
import ResilientPostgres
import Synchronization
import Testing
import TestSupport

/// Faults of a managed server, played on the disposable `storm` cluster: restarts, shutdown windows, a vanished
/// network, and an outage longer than the budget. Serialized: each test disrupts the one server.
@Suite("Disruptions", .capturingLogs, .serialized, .enabled(if: Servers.hasStorm, Servers.stormSkipReason))
struct DisruptionTests {
    var port: String { Servers.stormPort! }

    func configuration(_ adjust: (inout PostgresClient.Configuration) -> Void = { _ in }) -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(connection: Servers.parameters(port: port))
        configuration.logger = .quiet
        adjust(&configuration)
        return configuration
    }

    /// Runs `body`, then makes sure the server is up again for the next test, whatever happened.
    func disrupting(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            try? await Servers.cluster("start-existing", "storm")
            throw error
        }
    }

    @Test func operationsSucceedThroughARestartStorm() async throws {
        let client = PostgresClient(configuration: configuration { $0.maxConnections = 4 })
        try await client.execute("DROP TABLE IF EXISTS storm_hits")
        try await client.execute("CREATE TABLE storm_hits (worker int PRIMARY KEY, hits int NOT NULL)")
        let end = ContinuousClock.now + .seconds(30)
        let tally = Tally()
        try await disrupting {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // Fast restarts (sessions terminated with 57P01, then refused) every few seconds.
                    while ContinuousClock.now < end - .seconds(3) {
                        try await Task.sleep(for: .seconds(3))
                        try await Servers.cluster("restart", "storm", "fast")
                    }
                }
                for worker in 1...4 {
                    group.addTask {
                        var hits = 0
                        while ContinuousClock.now < end {
                            do {
                                hits += 1
                                _ = try await client.query("SELECT count(*) FROM pg_class", options: .readOnly)
                                _ = try await client.transaction(options: .idempotent) { tx in
                                    try await tx.execute("""
                                        INSERT INTO storm_hits VALUES (\(worker), \(hits))
                                        ON CONFLICT (worker) DO UPDATE SET hits = excluded.hits
                                        """)
                                }
                                tally.successes.add(1, ordering: .relaxed)
                            } catch {
                                tally.failures.withLock { $0.append(String(describing: error)) }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        #expect(tally.failures.withLock { $0 } == [])
        #expect(tally.successes.load(ordering: .relaxed) > 0)
        try await client.execute("DROP TABLE storm_hits")
        await client.shutdown()
    }

    @Test func smartShutdownAndRestartAreRiddenThrough() async throws {
        let events = Mutex<[AttemptEvent]>([])
        let client = PostgresClient(configuration: configuration { configuration in
            configuration.onAttempt = { event in events.withLock { $0.append(event) } }
        })
        try await disrupting {
            // A session that stays keeps a smart shutdown waiting; meanwhile the server refuses new ones (57P03).
            let holder = try await LibPQConnection.connect(Servers.parameters(port: port))
            let stopping = Task { try await Servers.cluster("stop", "storm", "smart") }
            try await waitForRefusal(sqlState: "57P03")
            let operation = Task { try await client.query("SELECT 1", options: .readOnly) }
            try await Task.sleep(for: .seconds(1))
            await holder.close()
            try await stopping.value
            try await Servers.cluster("start-existing", "storm")
            #expect(try await operation.value.decode(Int.self) == [1])
        }
        let first = events.withLock { $0.first }
        #expect(first?.errorClass == .serverUnavailable)
        #expect(first?.sqlState == "57P03")
        #expect(events.withLock { $0.last?.outcome } == .succeeded)
        await client.shutdown()
    }

    @Test(.enabled(if: BlackHole.isAvailable, "needs nftables rules (nft, as root)"))
    func vanishedNetworkIsNoticedAndRecoveredFrom() async throws {
        let firstFailure = Mutex<ContinuousClock.Instant?>(nil)
        let client = PostgresClient(configuration: configuration { configuration in
            // Keepalives and the unacknowledged-data timeout, tightened so the test takes seconds.
            configuration.connection["keepalives_idle"] = "1"
            configuration.connection["keepalives_interval"] = "1"
            configuration.connection["keepalives_count"] = "2"
            configuration.connection["tcp_user_timeout"] = "3000"
            configuration.connectTimeout = .seconds(2)
            configuration.onAttempt = { event in
                if event.errorClass != nil { firstFailure.withLock { $0 = $0 ?? .now } }
            }
        })
        #expect(try await client.query("SELECT 1", options: .readOnly).decode(Int.self) == [1])
        let hole = BlackHole(port: port)
        try await hole.close()
        let closed = ContinuousClock.now
        let operation = Task { try await client.query("SELECT 2", options: .readOnly) }
        try await Task.sleep(for: .seconds(8))
        let opened = ContinuousClock.now
        try await hole.open()
        #expect(try await operation.value.decode(Int.self) == [2])
        // The dead path was noticed while it was still dead, within the configured timeouts.
        let noticed = try #require(firstFailure.withLock { $0 })
        #expect(noticed < opened)
        #expect(noticed - closed < .seconds(7))
        await client.shutdown()
    }

    @Test func budgetShorterThanTheOutageFailsCleanlyLeavingNothingHalfDone() async throws {
        let client = PostgresClient(configuration: configuration { $0.retryPolicy.budget = .seconds(2) })
        try await client.execute("DROP TABLE IF EXISTS storm_pairs")
        try await client.execute("CREATE TABLE storm_pairs (pair int NOT NULL, part int NOT NULL)")
        try await disrupting {
            try await Servers.cluster("stop", "storm", "fast")
            let started = ContinuousClock.now
            let results = await withTaskGroup(of: (any Error)?.self) { group in
                for pair in 1...4 {
                    group.addTask {
                        do {
                            try await client.transaction { tx in
                                try await tx.execute("INSERT INTO storm_pairs VALUES (\(pair), 1)")
                                try await tx.execute("INSERT INTO storm_pairs VALUES (\(pair), 2)")
                            }
                            return nil
                        } catch {
                            return error
                        }
                    }
                }
                return await group.reduce(into: [(any Error)?]()) { $0.append($1) }
            }
            let elapsed = ContinuousClock.now - started
            for result in results {
                let error = result as? PostgresError
                #expect(error?.reason == .budgetExhausted)
                #expect(error?.errorClass == .unreachable)
                #expect(error?.mayHaveBeenApplied == false)
            }
            #expect(elapsed < .seconds(10))
            try await Servers.cluster("start-existing", "storm")
        }
        try await client.transaction { tx in
            try await tx.execute("INSERT INTO storm_pairs VALUES (99, 1)")
            try await tx.execute("INSERT INTO storm_pairs VALUES (99, 2)")
        }
        let pairs = try await client.query(
            "SELECT pair, count(*)::int FROM storm_pairs GROUP BY pair ORDER BY pair", options: .readOnly
        ).decode((Int, Int).self)
        #expect(pairs.map(\.0) == [99])
        #expect(pairs.map(\.1) == [2])
        try await client.execute("DROP TABLE storm_pairs")
        await client.shutdown()
    }

    /// What the workers of a storm met.
    final class Tally: Sendable {
        let failures = Mutex<[String]>([])
        let successes = Atomic(0)
    }

    /// Connects until the server refuses with `sqlState`.
    func waitForRefusal(sqlState: SQLState) async throws {
        for _ in 0..<200 {
            do {
                let session = try await LibPQConnection.connect(Servers.parameters(port: port))
                await session.close()
            } catch let error as TransportError where error.sqlState == sqlState {
                return
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        Issue.record("the server never refused with \(sqlState)")
    }
}
