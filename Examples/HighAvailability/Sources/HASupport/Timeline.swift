import Foundation
import ResilientPostgres
import Synchronization

/// Prints what happens, each line stamped with the time since the run started.
public final class Timeline: Sendable {
    public let start = ContinuousClock.now
    /// The wall clock at ``start``, to place times the servers report (their logs, the monitor's events).
    public let startDate = Date()
    private let lock = Mutex(())

    public init() {}

    public func milliseconds(at instant: ContinuousClock.Instant = .now) -> Int {
        Int((instant - start) / .milliseconds(1))
    }

    /// The milliseconds since the start of a wall-clock time, as ``milliseconds(at:)`` gives them.
    public func milliseconds(at date: Date) -> Int {
        Int((date.timeIntervalSince(startDate) * 1000).rounded(.down))
    }

    public func log(_ text: String, at instant: ContinuousClock.Instant = .now) {
        log(text, stamp: milliseconds(at: instant))
    }

    /// Logs `text` stamped with a wall-clock time, such as a server's.
    public func log(_ text: String, at date: Date) {
        log(text, stamp: milliseconds(at: date))
    }

    private func log(_ text: String, stamp milliseconds: Int) {
        let stamp = String(milliseconds)
        let padded = String(repeating: " ", count: max(0, 6 - stamp.count)) + stamp
        lock.withLock { _ in Self.printLine("[\(padded) ms] \(text)") }
    }

    /// Writes a line to standard output at once (unbuffered), so a log shows progress as it happens.
    public static func printLine(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

/// Tells workers to finish.
public final class StopSignal: Sendable {
    private let raised = Atomic(false)
    public init() {}
    public var isRaised: Bool { raised.load(ordering: .relaxed) }
    public func raise() { raised.store(true, ordering: .relaxed) }
}

/// Milliseconds between two instants, rounded down.
public func milliseconds(from start: ContinuousClock.Instant, to end: ContinuousClock.Instant) -> Int {
    Int((end - start) / .milliseconds(1))
}
