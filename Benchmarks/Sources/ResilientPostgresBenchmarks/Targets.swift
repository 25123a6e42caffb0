import BenchmarkSupport
import Foundation

/// The project's performance targets, checked against the medians (they are stated for pinned runs).
struct Target {
    enum Kind {
        /// ResilientPostgres's throughput at least `ratio` times libpq's.
        case versusLibPQ
        /// ResilientPostgres's throughput at least `ratio` times postgres-nio's.
        case versusPostgresNIO
        /// The policy bookkeeping at most `ratio` nanoseconds per operation.
        case nanosecondsPerOperation
        /// ResilientPostgres's context switches per operation at most libpq's plus `ratio` (pinned runs).
        case contextSwitchesOverLibPQ
    }

    let workload: Workload
    let kind: Kind
    let ratio: Double

    static let all: [Target] = [
        Target(workload: .seqSelect1, kind: .versusLibPQ, ratio: 0.85),
        Target(workload: .seqParam, kind: .versusLibPQ, ratio: 0.85),
        Target(workload: .seqSelect1OnIOThreads, kind: .versusLibPQ, ratio: 0.85),
        Target(workload: .seqParamOnIOThreads, kind: .versusLibPQ, ratio: 0.85),
        Target(workload: .seqParamOnSessionThread, kind: .versusLibPQ, ratio: 0.85),
        Target(workload: .rows10k, kind: .versusLibPQ, ratio: 0.75),
        Target(workload: .rows10kOnIOThreads, kind: .versusLibPQ, ratio: 0.75),
        Target(workload: .pipelineParam, kind: .versusLibPQ, ratio: 0.85),
        Target(workload: .concurrent8, kind: .versusLibPQ, ratio: 0.85),
        Target(workload: .concurrent8OnIOThreads, kind: .versusLibPQ, ratio: 0.85),
        Target(workload: .insertTransaction, kind: .versusLibPQ, ratio: 0.85),
        Target(workload: .streamRows, kind: .versusLibPQ, ratio: 0.85),
        Target(workload: .streamRowsOnIOThreads, kind: .versusLibPQ, ratio: 0.85),
        Target(workload: .copyIn, kind: .versusLibPQ, ratio: 0.85),
        Target(workload: .seqSelect1, kind: .contextSwitchesOverLibPQ, ratio: 0.2),
        Target(workload: .seqParam, kind: .contextSwitchesOverLibPQ, ratio: 0.2),
        Target(workload: .seqSelect1OnIOThreads, kind: .contextSwitchesOverLibPQ, ratio: 0.2),
        Target(workload: .seqParamOnIOThreads, kind: .contextSwitchesOverLibPQ, ratio: 0.2),
        Target(workload: .seqParamOnSessionThread, kind: .contextSwitchesOverLibPQ, ratio: 0.2),
        Target(workload: .insertTransaction, kind: .contextSwitchesOverLibPQ, ratio: 0.2),
        Target(workload: .seqParam, kind: .versusPostgresNIO, ratio: 2),
        Target(workload: .rows10k, kind: .versusPostgresNIO, ratio: 2),
        Target(workload: .pipelineParam, kind: .versusPostgresNIO, ratio: 5),
        Target(workload: .policy, kind: .nanosecondsPerOperation, ratio: 1000),
    ]

    /// How the target reads in the table.
    var label: String {
        switch kind {
        case .versusLibPQ: "≥ \(ratio.formatted())× libpq"
        case .versusPostgresNIO: "≥ \(ratio.formatted())× postgres-nio"
        case .nanosecondsPerOperation: "≤ \(ratio.formatted()) ns/op"
        case .contextSwitchesOverLibPQ: "≤ libpq's + \(ratio.formatted()) cs/op"
        }
    }

    /// Whether the medians meet the target, or nil when a median is missing: throughput for most kinds, context
    /// switches per operation for ``Kind/contextSwitchesOverLibPQ``.
    func isMet(by medians: [SystemName: Double]) -> Bool? {
        guard let ours = medians[.resilientPostgres], ours > 0 || kind == .contextSwitchesOverLibPQ else { return nil }
        switch kind {
        case .versusLibPQ: return medians[.libpq].map { ours / $0 >= ratio }
        case .versusPostgresNIO: return medians[.postgresNIO].map { ours / $0 >= ratio }
        case .nanosecondsPerOperation: return 1e9 / ours <= ratio
        case .contextSwitchesOverLibPQ: return medians[.libpq].map { ours <= $0 + ratio }
        }
    }
}

/// How the peak resident set may compare with libpq's, and how much it may grow from 20k to 200k queries.
enum MemoryTargets {
    /// Peak RSS at most this many times libpq's.
    static let peakRatioToLibPQ = 1.5
    /// Growth from the short to the long run counted as flat: at most 1 MiB or 5 %, whichever is larger.
    static func isFlat(shortKiB: Int, longKiB: Int) -> Bool {
        let growth = longKiB - shortKiB
        return growth <= max(1024, shortKiB / 20)
    }

    /// The peak resident set after streaming 5M rows counted as flat: within 10 % of the peak after 100k.
    static func isStreamFlat(shortKiB: Int, longKiB: Int) -> Bool {
        Double(longKiB) <= Double(shortKiB) * 1.1
    }
}
