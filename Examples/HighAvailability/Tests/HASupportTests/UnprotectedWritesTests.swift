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

    /// A span whose node never reported its demotion stays open (`HADemo` counts nothing of it: a node never demoted
    /// was never rewound).
    @Test func aSpanWithoutDemotionStaysOpen() throws {
        let spans = Formation.unprotectedWrites(in: Array(Self.racedSwitchover.prefix(9)))
        #expect(spans.count == 1)
        #expect(try #require(spans.first).until == nil)
    }
}

/// Which missing writes of a span count as rewound away by the engine.
@Suite("Writes a rewind discarded")
struct RewoundWritesTests {
    static func written(_ entries: [(String, Int, Int, Bool)]) -> [RewoundWrites.Acknowledgement] {
        entries.map { RewoundWrites.Acknowledgement(key: $0.0, port: $0.1, milliseconds: $0.2, isMissing: $0.3) }
    }

    /// Present before the first missing one, missing from it on (one present answer within 50 ms of it): all of
    /// the span's missing writes, and nothing of another port or outside the span.
    @Test func aSpanWhoseEndIsMissingAccountsForItsMissingWrites() {
        let rewound = RewoundWrites(port: 27433, from: 1000, demoted: 2000, acknowledgements: Self.written([
            ("before", 27433, 900, true),
            ("kept", 27433, 1100, false),
            ("a", 27433, 1200, true),
            ("late answer", 27433, 1230, false),
            ("b", 27433, 1900, true),
            ("other port", 27434, 1950, true),
            ("c", 27433, 2900, true),
            ("after", 27433, 3100, true),
        ]))
        #expect(rewound.acknowledged == 5)
        #expect(rewound.missing == ["a", "b", "c"])
        #expect(rewound.presentAfterFirstMissing == 0)
        #expect(rewound.discarded == ["a", "b", "c"])
    }

    /// A write present after the first missing one is not a rewind's pattern: nothing is accounted for.
    @Test func aPresentWriteAfterTheFirstMissingOneAccountsForNothing() {
        let rewound = RewoundWrites(port: 27433, from: 1000, demoted: 2000, acknowledgements: Self.written([
            ("a", 27433, 1200, true),
            ("present", 27433, 1300, false),
            ("b", 27433, 1400, true),
        ]))
        #expect(rewound.missing == ["a", "b"])
        #expect(rewound.presentAfterFirstMissing == 1)
        #expect(rewound.discarded.isEmpty)
    }
}
