import Foundation
import ResilientPostgres
import Synchronization

/// Prints what happens, each line stamped with the time since the demo started.
final class Timeline: Sendable {
    let start = ContinuousClock.now
    private let lock = Mutex(())
    private let resolvedCount = Atomic(0)

    /// How many lost answers the client resolved by checking (applied, or not applied and run again).
    var resolved: Int { resolvedCount.load(ordering: .relaxed) }

    func milliseconds(at instant: ContinuousClock.Instant = .now) -> Int {
        Int((instant - start) / .milliseconds(1))
    }

    func log(_ text: String, at instant: ContinuousClock.Instant = .now) {
        let stamp = String(milliseconds(at: instant)).leftPadded(to: 6)
        lock.withLock { _ in Self.printLine("[\(stamp) ms] \(text)") }
    }

    /// One line per failed attempt: its class, where, and what the client does next.
    func record(_ event: AttemptEvent) {
        if event.outcome == .verifiedApplied || event.outcome == .verifiedNotApplied {
            resolvedCount.add(1, ordering: .relaxed)
        }
        guard let errorClass = event.errorClass else { return }
        let place = [event.host, event.port.map(String.init)].compactMap { $0 }.joined(separator: ":")
        let state = event.sqlState.map { " \($0)" } ?? ""
        let next: String =
            switch event.outcome {
            case .succeeded: "done"
            case .willRetry(let delay, let reconnects):
                (reconnects ? "reconnect" : "retry") + (delay == .zero ? " at once" : " after \(delay / .milliseconds(1)) ms")
            case .gaveUp(let reason): "give up (\(reason))"
            case .verifiedApplied: "verified applied"
            case .verifiedNotApplied: "verified not applied, run again"
            }
        log("attempt \(event.attempt) failed: \(errorClass.name)\(state) at \(place.isEmpty ? "?" : place) -> \(next)")
    }
}

extension Timeline {
    /// Writes a line to standard output at once (unbuffered), so a log shows progress as it happens.
    static func printLine(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
