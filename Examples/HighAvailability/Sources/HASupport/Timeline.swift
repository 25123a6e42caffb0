import Foundation
import ResilientPostgres
import Synchronization

/// Prints what happens, each line stamped with the time since the run started.
public final class Timeline: Sendable {
    public let start = ContinuousClock.now
    private let lock = Mutex(())

    public init() {}

    public func milliseconds(at instant: ContinuousClock.Instant = .now) -> Int {
        Int((instant - start) / .milliseconds(1))
    }

    public func log(_ text: String, at instant: ContinuousClock.Instant = .now) {
        let stamp = String(milliseconds(at: instant))
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
