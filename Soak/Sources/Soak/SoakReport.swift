import Foundation

/// The soak's findings, and whether they pass: the data add up and no descriptor leaked.
struct SoakReport {
    let tally: Tally
    let warmUpOperations: Int
    let restarts: [Restarter.Restart]
    let logCounts: [String: Int]
    let beforeClient: ProcessStats
    let start: ProcessStats
    let end: ProcessStats
    let afterShutdown: ProcessStats
    let balances: Int
    let counter: Int

    /// RSS may wander with the allocator; more than this much above the start counts as growth.
    static let residentToleranceKB = 8 * 1024

    var balancesHold: Bool { balances == Workload.accounts * Workload.initialBalance }
    var counterHolds: Bool {
        (tally.acknowledgedIncrements...(tally.acknowledgedIncrements + tally.unknownIncrements)).contains(counter)
    }
    var residentGrew: Bool { end.residentKB - start.residentKB > Self.residentToleranceKB }
    var descriptorsGrew: Bool { end.descriptors > start.descriptors }
    var passed: Bool { balancesHold && counterHolds && !descriptorsGrew }

    func print() {
        let total = tally.succeededCount + tally.failedCount - warmUpOperations
        Swift.print("""
            soak: restarts: \(restarts.count) (\(Self.list(Dictionary(grouping: restarts, by: \.mode).mapValues(\.count)))), \
            \(restarts.filter { !$0.succeeded }.count) failed
            soak: operations after warm-up: \(total); in all \(tally.succeededCount) succeeded, \(tally.failedCount) failed
            soak: succeeded by operation: \(Self.list(tally.succeededByOperation))
            soak: failed by operation: \(Self.list(tally.failedByOperation))
            soak: failed by error class (reason): \(Self.list(tally.failedByClass))
            soak: client log records: \(Self.list(logCounts))
            soak: memory: start \(Self.megabytes(start.residentKB)), end \(Self.megabytes(end.residentKB)) \
            (\(end.residentKB >= start.residentKB ? "+" : "")\(Self.megabytes(end.residentKB - start.residentKB))): \
            \(residentGrew ? "GROWTH" : "no growth") (tolerance \(Self.megabytes(Self.residentToleranceKB)))
            soak: memory after each restart: \(restarts.map { Self.megabytes($0.residentKB) }.joined(separator: ", "))
            soak: descriptors: start \(start.descriptors), end \(end.descriptors): \
            \(descriptorsGrew ? "GROWTH" : "no growth"); before the client \(beforeClient.descriptors), \
            after its shutdown \(afterShutdown.descriptors)
            soak: sockets after the client's shutdown: \(afterShutdown.descriptorKinds["socket", default: 0]) \
            (\(beforeClient.descriptorKinds["socket", default: 0]) before the client; the rest are Foundation's)
            soak: descriptors by kind: start \(Self.list(start.descriptorKinds)); end \(Self.list(end.descriptorKinds))
            soak: balances sum \(balances) (expected \(Workload.accounts * Workload.initialBalance)): \
            \(balancesHold ? "ok" : "VIOLATED")
            soak: counter \(counter), acknowledged increments \(tally.acknowledgedIncrements), outcome unknown \
            \(tally.unknownIncrements): \(counterHolds ? "ok" : "VIOLATED")
            soak: \(passed ? "passed" : "FAILED")
            """)
    }

    static func list(_ counts: [String: Int]) -> String {
        counts.isEmpty ? "none" : counts.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }

    static func megabytes(_ kilobytes: Int) -> String {
        String(format: "%.1f MB", Double(kilobytes) / 1024)
    }
}
