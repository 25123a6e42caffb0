import PostgresTransport
import ResilientPostgres
import Synchronization
import Testing
import TestSupport

/// The password to sign in with changes every few seconds for a minute, as an identity service's tokens do, while a
/// pool of four short-lived sessions runs queries throughout: no operation fails, sessions opened before a change
/// still serve, and the provider is called about once per new session, never once per operation.
///
/// Three roles take turns, so that a password handed out stays good for at least 6 s (``SigningInRole``), as an
/// identity service's earlier tokens stay good until they expire: a connect on a loaded machine may take seconds, and
/// a password fetched for it and changed before it signs in would be refused, rightly, with nothing to retry.
///
/// It runs for a minute: a suite of its own, so that it runs beside the others.
@Suite("Credential rotation", .capturingLogs, .enabled(if: IntegrationServers.main, IntegrationServers.mainSkipReason))
struct CredentialRotationTests {
    static let duration = Duration.seconds(62)
    static let changeEvery = Duration.seconds(3)

    /// What the workers saw.
    struct Seen {
        var operations = 0
        var failures: [String] = []
        /// The password change each server process was first seen under.
        var firstSeen: [Int32: Int] = [:]
        /// Operations served by a session first seen before the password's last change.
        var servedAfterAChange = 0
    }

    /// What the workers saw, shared by them.
    final class Tally: Sendable {
        let seen = Mutex(Seen())
    }

    @Test func operationsNeverFailWhileThePasswordRotates() async throws {
        let port = IntegrationServers.port("main")!
        let role = try await SigningInRole.create(port: port, roles: 3, honoured: Self.changeEvery * 2)
        let calls = Counter()
        let client = PostgresClient(configuration: IntegrationServers.configuration(role.parameters) {
            $0.maxConnections = 4
            $0.maxLifetime = .seconds(4)
            // A token is good for less time than the rotation period.
            $0.credentials = CredentialProvider(refreshMargin: .milliseconds(500)) {
                calls.increment()
                return await role.currentCredential(validFor: .seconds(2))
            }
        })
        let tally = Tally()
        let end = ContinuousClock.now + Self.duration
        try await withCleanup {
            let admin = try await IntegrationServers.superuserSession(port: port)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // On a fixed timeline, so that a slow change (it waits for the password it replaces to have
                    // served a while) does not push the next ones back.
                    var next = ContinuousClock.now + Self.changeEvery
                    while next < end {
                        try await Task.sleep(until: next, clock: .continuous)
                        try await role.change(on: admin)
                        next += Self.changeEvery
                    }
                }
                for _ in 1...4 {
                    group.addTask {
                        while ContinuousClock.now < end {
                            let change = role.changes
                            do {
                                let rows = try await client.query("SELECT pg_backend_pid()", options: .readOnly)
                                let pid = try rows.decode(Int32.self)[0]
                                tally.seen.withLock { tally in
                                    tally.operations += 1
                                    let firstSeen = tally.firstSeen[pid] ?? change
                                    tally.firstSeen[pid] = firstSeen
                                    if firstSeen < change { tally.servedAfterAChange += 1 }
                                }
                            } catch {
                                tally.seen.withLock { $0.failures.append(String(describing: error)) }
                            }
                            try await Task.sleep(for: .milliseconds(10))
                        }
                    }
                }
                try await group.waitForAll()
            }
            await admin.close()
        } cleanup: {
            await client.shutdown()
            try await role.drop()
        }
        let seen = tally.seen.withLock { $0 }
        let fetches = calls.count
        #expect(seen.failures.isEmpty, "\(seen.failures.prefix(3))")
        #expect(role.changes >= 15)
        #expect(seen.operations > 1000)
        #expect(seen.servedAfterAChange > 0)
        // About once per new session: at most one refresh more for each (a kept password the server refused), and
        // nowhere near once per operation.
        let sessions = seen.firstSeen.count
        #expect(sessions >= 10)
        #expect(fetches >= role.changes / 2)
        #expect(fetches <= 2 * sessions, "\(fetches) fetches for \(sessions) sessions")
        #expect(fetches * 20 < seen.operations)
    }
}
