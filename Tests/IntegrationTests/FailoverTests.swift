import Foundation
import ResilientPostgres
import Synchronization
import Testing
import TestSupport

/// A primary with a synchronous streaming standby (`failover` and `failover-standby`, used by nothing else): writers
/// insert through the client while the primary is killed and the standby promoted.
enum FailoverServers {
    static let primaryPort = Servers.environment.server("failover")?.port
    static let standbyPort = Servers.environment.server("failover-standby")?.port
    static let isAvailable = Servers.environment.has("failover", "failover-standby", clusterScript: true)
    static let skipReason = Servers.environment.skipReason(needing: "failover", "failover-standby", clusterScript: true)
}

@Suite("Failover", .capturingLogs, .serialized, .enabled(if: FailoverServers.isAvailable, FailoverServers.skipReason))
struct FailoverTests {

    /// What the writers were told, key by key.
    final class Ledger: Sendable {
        let acknowledged = Mutex<Set<String>>([])
        let unknown = Mutex<Set<String>>([])
        let notApplied = Mutex<[String: String]>([:])
        /// When the standby accepted writes; the writers stop two seconds later.
        let promoted = Mutex<ContinuousClock.Instant?>(nil)
    }

    @Test func noAcknowledgedWriteIsLostOrDuplicatedAndUnknownOutcomesAreReported() async throws {
        let primary = try Self.port(FailoverServers.primaryPort), standby = try Self.port(FailoverServers.standbyPort)
        let admin = PostgresClient(configuration: .init(connection: Servers.parameters(port: primary)))
        // HA services commit synchronously to the standby: an acknowledged commit survives the failover.
        try await admin.execute("ALTER SYSTEM SET synchronous_standby_names = '*'")
        try await admin.execute("ALTER SYSTEM SET synchronous_commit = 'on'")
        try await admin.execute("SELECT pg_reload_conf()")
        for _ in 0..<500 {
            let synchronous = try await admin.query(
                "SELECT count(*)::int FROM pg_stat_replication WHERE sync_state = 'sync'", options: .readOnly
            ).decode(Int.self)
            if synchronous == [1] { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        try await admin.execute("CREATE TABLE failover_soak (key text NOT NULL, writer int NOT NULL)")
        await admin.shutdown()

        var configuration = PostgresClient.Configuration(connection: Servers.parameters(port: "\(primary),\(standby)"))
        configuration.connection["host"] = "127.0.0.1,127.0.0.1"
        configuration.maxConnections = 6
        configuration.logger = .quiet
        let client = PostgresClient(configuration: configuration)
        let ledger = Ledger()

        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 1...6 {
                group.addTask {
                    var number = 0
                    // Writers run until two seconds after the promotion.
                    while ledger.promoted.withLock({ $0.map { ContinuousClock.now < $0 + .seconds(2) } ?? true }) {
                        number += 1
                        let key = "w\(writer)-\(number)"
                        do {
                            try await client.execute("INSERT INTO failover_soak VALUES (\(key), \(writer))")
                            _ = ledger.acknowledged.withLock { $0.insert(key) }
                        } catch let error as PostgresError where error.mayHaveBeenApplied {
                            #expect(error.errorClass == .outcomeUnknown)
                            _ = ledger.unknown.withLock { $0.insert(key) }
                        } catch let error as PostgresError {
                            ledger.notApplied.withLock { $0[key] = error.errorClass.name }
                        }
                    }
                }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(2))
                try await Servers.cluster("stop", "failover", "immediate")
                try await Servers.cluster("promote", "failover-standby")
                ledger.promoted.withLock { $0 = .now }
            }
            try await group.waitForAll()
        }
        await client.shutdown()

        let survivor = PostgresClient(configuration: .init(connection: Servers.parameters(port: standby)))
        let counts = Dictionary(uniqueKeysWithValues: try await survivor.query(
            "SELECT key, count(*)::int FROM failover_soak GROUP BY key", options: .readOnly
        ).decode((String, Int).self))
        await survivor.shutdown()

        let acknowledged = ledger.acknowledged.withLock { $0 }
        let unknown = ledger.unknown.withLock { $0 }
        let notApplied = ledger.notApplied.withLock { $0 }
        #expect(acknowledged.count > 100)
        // Every acknowledged write is there exactly once; nothing is there twice.
        #expect(acknowledged.filter { counts[$0] != 1 }.sorted() == [])
        #expect(counts.filter { $0.value > 1 }.keys.sorted() == [])
        // Whatever is there was either acknowledged or reported to its writer as unknown.
        #expect(counts.keys.filter { !acknowledged.contains($0) && !unknown.contains($0) }.sorted() == [])
        // A write reported as failed and not applied is not there.
        #expect(notApplied.keys.filter { counts[$0] != nil }.sorted() == [])
        #expect(notApplied.isEmpty, "writes failed within their budget: \(notApplied)")
    }

    static func port(_ value: String?) throws -> String { try #require(value) }
}
