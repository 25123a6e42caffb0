import Foundation
import InMemoryLogging
import Logging
import Synchronization
import Testing

/// Keeps what a test logs through swift-log in memory, and prints it to standard error only when the test fails, so
/// that a green run stays quiet and a red one shows the failing test's own log. A suite trait applies to every test
/// in the suite, one log per test case.
///
/// A test fails when it records an issue that is not a known one, or throws.
public struct CapturingLogsTrait: TestTrait, SuiteTrait, TestScoping {
    public var isRecursive: Bool { true }

    /// Bootstraps swift-log while the run is planned, before any test makes a logger.
    public func prepare(for test: Test) async throws {
        TestLog.bootstrapped
    }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        TestLog.bootstrapped
        let log = InMemoryLogHandler()
        let failed = Failed()
        let observer = IssueHandlingTrait.compactMapIssues { issue in
            if issue.isFailure { failed.set() }
            return issue
        }
        do {
            try await TestLog.$current.withValue(log) {
                try await observer.provideScope(for: test, testCase: testCase, performing: function)
            }
        } catch {
            failed.set()
            Self.print(log, of: test)
            throw error
        }
        if failed.value { Self.print(log, of: test) }
    }

    /// Writes the test's log to standard error in one write, so that tests failing at once do not interleave.
    private static func print(_ log: InMemoryLogHandler, of test: Test) {
        let entries = log.entries
        let name = "\(test.id)"
        let text = entries.isEmpty
            ? "── \(name) logged nothing\n"
            : "── log of \(name) (\(entries.count) records)\n\(TestLog.render(entries))\n── end of log\n"
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// Whether the test has failed; set from wherever its issues are recorded.
private final class Failed: Sendable {
    private let flag = Atomic(false)
    var value: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}

extension Trait where Self == CapturingLogsTrait {
    /// Captures the test's logs in memory and prints them only when it fails (see ``CapturingLogsTrait``).
    public static var capturingLogs: Self { Self() }
}
