import Foundation
import Logging
import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

/// Four clients of four sessions each against a server with six slots for them (`slots`: max_connections=8,
/// superuser_reserved_connections=2): "too many clients" (53300) is back-pressure, met with the resource-limit
/// backoff, not an outage the clients reconnect out of as fast as they can. The rejections are counted in the
/// server's log.
@Suite(
    "Too many clients is back-pressure", .capturingLogs, .serialized,
    .enabled(if: IntegrationServers.slots, IntegrationServers.slotsSkipReason)
)
struct SlotPressureTests {
    /// Each operation's budget: shorter than the default 60 s, to keep the run short, and long enough that the
    /// first connects, which meet a full server at once (up to 16 for 6 slots), do not make up most of the run.
    static let budget = Duration.seconds(25)
    /// Before the resource-limit backoff, the same run refused 1,885 connects in 120 s (4 clients): 15.7 a second.
    static let oldRejectionsPerSecond = 1885.0 / 120
    /// The clients' first connects meet a full server at once, one per session they may open (4 clients of 4), before
    /// any of them has learned that it is full: refusals a run of any length has, however short.
    static let firstConnects = 16

    struct Run: CustomStringConvertible {
        var succeeded = 0
        var failed = 0
        var failures: [String: Int] = [:]
        var elapsed = Duration.zero
        /// The server's FATAL 53300 lines during the run.
        var rejections = 0
        /// Every connect the server received during the run (log_connections).
        var connects = 0

        var seconds: Double {
            Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }

        var description: String {
            "\(succeeded) ok, \(failed) failed \(failures), \(rejections) rejections and \(connects) connects in \(elapsed)"
        }
    }

    @Test func allClientsAtOnce() async throws {
        let run = try await Self.run(delays: [.zero, .zero, .zero, .zero])
        Self.check(run)
    }

    @Test func twoClientsOneSecondLater() async throws {
        let run = try await Self.run(delays: [.zero, .zero, .seconds(1), .seconds(1)])
        Self.check(run)
    }

    static func check(_ run: Run) {
        #expect(run.succeeded + run.failed == 400)
        // Beyond the first connects, at least ten times fewer refusals a second than before.
        #expect(Double(run.rejections) <= Double(firstConnects) + oldRejectionsPerSecond / 10 * run.seconds, "\(run)")
        // Every client makes progress: one that was refused keeps no idle session (it goes back to the server
        // for the others), so none waits out its budget while another holds slots it does not use.
        #expect(run.failed == 0, "\(run)")
    }

    /// Runs 100 `SELECT pg_sleep(0.02)` concurrently on each of four clients, client `i` starting after `delays[i]`.
    static func run(delays: [Duration]) async throws -> Run {
        let port = try #require(IntegrationServers.port("slots"))
        let log = try #require(IntegrationServers.log("slots"))
        try await waitUntilNoAppSessions(port: port)
        let logStart = try FileManager.default.attributesOfItem(atPath: log)[.size] as? Int ?? 0
        let clients = delays.map { _ in
            PostgresClient(configuration: IntegrationServers.configuration(IntegrationServers.appParameters(port: port)) {
                $0.maxConnections = 4
                $0.retryPolicy.budget = budget
                $0.logger = Logger(label: "slots", factory: { _ in SwiftLogNoOpLogHandler() })
            })
        }
        let started = ContinuousClock.now
        // Each operation answers nil when it succeeded, or its failure's class and reason.
        var run = await withTaskGroup(of: String?.self) { group in
            for (client, delay) in zip(clients, delays) {
                for _ in 0..<100 {
                    group.addTask {
                        try? await Task.sleep(for: delay)
                        do {
                            try await client.execute("SELECT pg_sleep(0.02)", options: .readOnly)
                            return nil
                        } catch let error as PostgresError {
                            return "\(error.errorClass.name)/\(error.reason)"
                        } catch {
                            return "\(type(of: error))"
                        }
                    }
                }
            }
            var run = Run()
            for await failure in group {
                if let failure {
                    run.failed += 1
                    run.failures[failure, default: 0] += 1
                } else {
                    run.succeeded += 1
                }
            }
            return run
        }
        run.elapsed = started.duration(to: .now)
        for client in clients { await client.shutdown() }
        let lines = try logLines(log, from: logStart)
        run.rejections = lines.count(where: { line in
            line.contains("FATAL:") && (line.contains("sorry, too many clients already")
                || line.contains("remaining connection slots are reserved"))
        })
        run.connects = lines.count(where: { $0.contains("connection received:") })
        return run
    }

    /// The server's log from byte `offset` on, one line each.
    static func logLines(_ path: String, from offset: Int) throws -> [Substring] {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        let data = try handle.readToEnd() ?? Data()
        return String(decoding: data, as: UTF8.self).split(separator: "\n")
    }

    /// Waits until the sessions of an earlier run have ended on the server (a superuser still gets a reserved slot).
    static func waitUntilNoAppSessions(port: String) async throws {
        let admin = try await IntegrationServers.superuserSession(port: port)
        let deadline = ContinuousClock.now.advanced(by: .seconds(10))
        var open = "?"
        while ContinuousClock.now < deadline {
            open = try await admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE usename = $1", parameters: [.text(IntegrationServers.appUser)]
            ).string(row: 0, column: 0) ?? "?"
            if open == "0" { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        await admin.close()
        #expect(open == "0", "sessions of role app still open on the server")
    }
}
