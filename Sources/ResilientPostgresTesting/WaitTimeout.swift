/// A wait of a test double that ran out of real time: what it waited for, and what there was when it gave up.
///
/// Thrown by every wait of the doubles (``ManualClock/nextSleep(timeout:)``,
/// ``ManualClock/waitForSleeps(count:timeout:)``, ``ManualClock/run(timeout:isolation:_:)``,
/// ``ScriptedDatabase/waitForConnects(count:timeout:)``, ...), so a test whose choreography went wrong fails with a
/// reason instead of hanging: `waited 10 s for 2 sleeps; 1 pending: Sleep(#3, 0.5 s)`.
public struct WaitTimeout: Error, Sendable, CustomStringConvertible {
    /// What the wait was for, as in `2 sleeps` or `3 connects`.
    public let expected: String
    /// What there was when the time ran out, as in `1 pending: Sleep(#3, 0.5 s)`.
    public let observed: String
    /// The real time waited.
    public let timeout: Duration

    /// A timeout of a wait for `expected` after `timeout`, when there was `observed`.
    public init(expected: String, observed: String, timeout: Duration) {
        self.expected = expected
        self.observed = observed
        self.timeout = timeout
    }

    /// What was waited for, how long, and what there was.
    public var description: String { "waited \(timeout.shortDescription) for \(expected); \(observed)" }
}

extension WaitTimeout {
    /// The real time the doubles' waits give up after unless told otherwise: ample for anything that happens in a
    /// test without a server, which takes microseconds, even on a loaded machine or under a sanitizer.
    public static let defaultTimeout = Duration.seconds(10)

    /// Runs `wait`, and throws a ``WaitTimeout`` when it has not returned after `timeout` of real time; `observe`
    /// says what there is then. `wait` is cancelled when the time runs out, and when the calling task is.
    static func bounding<Value: Sendable>(
        _ timeout: Duration,
        waitingFor expected: @autoclosure () -> String,
        observe: @escaping @Sendable () -> String,
        _ wait: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        precondition(timeout > .zero, "a wait needs some time")
        let expected = expected()
        return try await withThrowingTaskGroup(of: Value.self) { group in
            group.addTask { try await wait() }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw WaitTimeout(expected: expected, observed: observe(), timeout: timeout)
            }
            defer { group.cancelAll() }
            // Two tasks were added, so there is a first result.
            return try await group.next()!
        }
    }
}
