import Foundation
import HASupport
import Testing

/// Which spans of a run's monitor events let a primary commit writes its failover was bound to discard, read from
/// event sequences pg_auto_failover recorded in `make demo-ha` runs (times in milliseconds since the start).
@Suite("Writes pg_auto_failover leaves unprotected")
struct UnprotectedWritesTests {
    static func events(_ lines: [(Int, String, String, String)]) -> [Formation.Event] {
        lines.map { milliseconds, node, reported, goal in
            Formation.Event(
                at: Date(timeIntervalSince1970: Double(milliseconds) / 1000), node: node,
                port: node == "node1" ? 27433 : 27434, reportedState: reported, goalState: goal, description: ""
            )
        }
    }

    /// A crash: the old primary is demoted while the standby is promoted; only the new primary is `wait_primary`,
    /// which is its normal way up.
    static let crash = events([
        (3123, "node1", "primary", "primary"),
        (7353, "node2", "secondary", "prepare_promotion"),
        (7353, "node1", "primary", "draining"),
        (7389, "node2", "prepare_promotion", "prepare_promotion"),
        (7389, "node2", "prepare_promotion", "stop_replication"),
        (7389, "node1", "primary", "demote_timeout"),
        (8474, "node2", "stop_replication", "stop_replication"),
        (10538, "node2", "stop_replication", "wait_primary"),
        (10538, "node1", "primary", "demoted"),
        (10596, "node2", "wait_primary", "wait_primary"),
        (10904, "node1", "demoted", "demoted"),
        (10904, "node1", "demoted", "catchingup"),
        (12850, "node1", "secondary", "secondary"),
        (13955, "node2", "wait_primary", "primary"),
    ])

    /// A switchover whose old primary drained before its next heartbeat.
    static let switchover = events([
        (36365, "node1", "primary", "draining"),
        (36365, "node2", "secondary", "prepare_promotion"),
        (36642, "node1", "draining", "draining"),
        (36693, "node2", "prepare_promotion", "prepare_promotion"),
        (36693, "node2", "prepare_promotion", "stop_replication"),
        (36693, "node1", "draining", "demote_timeout"),
        (37789, "node2", "stop_replication", "wait_primary"),
        (37789, "node1", "demote_timeout", "demoted"),
        (37827, "node1", "demoted", "demoted"),
        (38709, "node2", "wait_primary", "primary"),
    ])

    /// A switchover raced by the old primary's heartbeat: the monitor assigned it `wait_primary` 2 ms after
    /// `draining`, and it committed (21,657 acknowledged writes, all missing afterwards) until it was demoted.
    static let racedSwitchover = events([
        (29938, "node1", "primary", "draining"),
        (29938, "node2", "secondary", "prepare_promotion"),
        (29940, "node1", "primary", "wait_primary"),
        (30049, "node1", "wait_primary", "wait_primary"),
        (30179, "node2", "prepare_promotion", "prepare_promotion"),
        (30179, "node2", "prepare_promotion", "stop_replication"),
        (30179, "node1", "wait_primary", "demote_timeout"),
        (31368, "node2", "stop_replication", "stop_replication"),
        (33548, "node2", "stop_replication", "wait_primary"),
        (33548, "node1", "wait_primary", "demoted"),
        (33651, "node2", "wait_primary", "wait_primary"),
        (33945, "node1", "demoted", "demoted"),
        (33945, "node1", "demoted", "catchingup"),
        (35896, "node2", "wait_primary", "primary"),
    ])

    @Test func failoversThatKeepSynchronousReplicationLeaveNone() {
        #expect(Formation.unprotectedWrites(in: Self.crash + Self.switchover).isEmpty)
    }

    @Test func aRacedSwitchoverLeavesTheOldPrimaryUnprotectedUntilItsDemotion() throws {
        let spans = Formation.unprotectedWrites(in: Self.crash + Self.racedSwitchover)
        let span = try #require(spans.first)
        #expect(spans.count == 1)
        #expect(span.node == "node1" && span.port == 27433)
        #expect(span.from == Date(timeIntervalSince1970: 29.940))
        #expect(span.until == Date(timeIntervalSince1970: 33.945))
    }

    /// A span whose node never reported its demotion stays open to the end of the run.
    @Test func aSpanWithoutDemotionStaysOpen() throws {
        let spans = Formation.unprotectedWrites(in: Array(Self.racedSwitchover.prefix(9)))
        #expect(spans.count == 1)
        #expect(try #require(spans.first).until == nil)
    }
}
