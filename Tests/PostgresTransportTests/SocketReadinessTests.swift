import Foundation
import PostgresTransport
import Synchronization
import Testing
import TestSupport

/// Waits on the two ends of a local socket pair; no server needed.
@Suite("Socket readiness", .capturingLogs)
struct SocketReadinessTests {
    /// The readiness of one of the process's I/O threads.
    static let readiness = IOThread.shared[0].readiness
    var readiness: SocketReadiness { Self.readiness }

    /// One end of a socket pair and the other, closed when the test ends.
    final class SocketPair: Sendable {
        let waited: Int32
        let other: Int32

        init() throws {
            var pair: [Int32] = [-1, -1]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else { throw POSIXError(.EMFILE) }
            waited = pair[0]
            other = pair[1]
        }

        deinit {
            close(waited)
            close(other)
        }

        /// Makes `waited` readable.
        func send() {
            var byte: UInt8 = 1
            _ = write(other, &byte, 1)
        }
    }

    /// The outcome of a wait started in a task of its own, once it ended, and when it ended.
    final class Wait: Sendable {
        private let outcome = Mutex<(SocketReadiness.Outcome, endedAt: ContinuousClock.Instant)?>(nil)

        init(
            _ interest: SocketReadiness.Interest,
            on registration: SocketReadiness.Registration,
            deadline: ContinuousClock.Instant? = nil
        ) {
            Task { [self] in
                let readiness = SocketReadinessTests.readiness
                let result = await readiness.wait(for: interest, on: registration, deadline: deadline)
                let endedAt = ContinuousClock.now
                outcome.withLock { $0 = (result, endedAt) }
            }
        }

        var result: SocketReadiness.Outcome? { outcome.withLock { $0?.0 } }
        /// The instant the wait returned, read by its own task: no later than anyone could see it ended.
        var endedAt: ContinuousClock.Instant? { outcome.withLock { $0?.endedAt } }

        /// The outcome, once the wait ended, or nil if it has not within `limit` (it hangs).
        func result(within limit: Duration) async throws -> SocketReadiness.Outcome? {
            let until = ContinuousClock.now + limit
            while result == nil, ContinuousClock.now < until { try await Task.sleep(for: .milliseconds(5)) }
            return result
        }
    }

    /// Time for a task to start and register its wait.
    static let settle = Duration.milliseconds(100)

    @Test func twoWaitsOnOneDescriptorBothWake() async throws {
        let pair = try SocketPair()
        let first = Wait(.readable, on: readiness.register(pair.waited), deadline: .now + .seconds(30))
        let second = Wait(.readable, on: readiness.register(pair.waited), deadline: .now + .seconds(30))
        try await Task.sleep(for: Self.settle)
        #expect(first.result == nil && second.result == nil)
        pair.send()
        #expect(try await first.result(within: .seconds(5)) == .ready)
        #expect(try await second.result(within: .seconds(5)) == .ready)
    }

    @Test func eachWaitOnOneDescriptorWakesForItsOwnInterest() async throws {
        let pair = try SocketPair()
        let reader = Wait(.readable, on: readiness.register(pair.waited), deadline: .now + .seconds(30))
        try await Task.sleep(for: Self.settle)
        // The socket is writable at once: the writer wakes, and the reader keeps waiting for data.
        let writer = Wait(.writable, on: readiness.register(pair.waited), deadline: .now + .seconds(30))
        #expect(try await writer.result(within: .seconds(5)) == .ready)
        try await Task.sleep(for: Self.settle)
        #expect(reader.result == nil)
        pair.send()
        #expect(try await reader.result(within: .seconds(5)) == .ready)
    }

    @Test func shortenedDeadlineEndsOnlyItsRegistrationsWait() async throws {
        let pair = try SocketPair()
        let cancelled = readiness.register(pair.waited)
        let first = Wait(.readable, on: cancelled)
        let second = Wait(.readable, on: readiness.register(pair.waited))
        try await Task.sleep(for: Self.settle)
        readiness.shortenDeadline(of: cancelled, to: .now)
        #expect(try await first.result(within: .seconds(5)) == .timedOut)
        try await Task.sleep(for: Self.settle)
        #expect(second.result == nil)
        pair.send()
        #expect(try await second.result(within: .seconds(5)) == .ready)
    }

    /// The loop sleeps at most a second at a time for a far deadline: it must look again, and end the wait at the
    /// deadline, neither at the first wake-up nor never. When the wait ended is recorded by the waiting task, so a
    /// late reader cannot pass a wait that ended early, and a slow machine only makes it end later.
    @Test func aDeadlineMoreThanASecondAwayEndsTheWaitAtTheDeadline() async throws {
        let pair = try SocketPair()
        let deadline = ContinuousClock.now + .milliseconds(2_500)
        let wait = Wait(.readable, on: readiness.register(pair.waited), deadline: deadline)
        #expect(try await wait.result(within: .seconds(10)) == .timedOut)
        #expect(try #require(wait.endedAt) >= deadline)
    }

    @Test func millisecondsUntilADeadlineAreCappedAtASecondAndRoundedUp() {
        #expect(SocketReadiness.milliseconds(until: .now + .seconds(3600)) == 1000)
        #expect(SocketReadiness.milliseconds(until: .now - .seconds(1)) == 0)
        #expect((1...401).contains(SocketReadiness.milliseconds(until: .now + .milliseconds(400))))
        #expect(SocketReadiness.milliseconds(until: .now + .nanoseconds(1)) <= 1)
    }

    /// A descriptor past the waiters' table (or near its end, where the process's limit is lower) wakes as a low
    /// one does.
    @Test func aWaitOnAHighDescriptorWakes() async throws {
        let pair = try SocketPair()
        var limit = rlimit()
        _ = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        let high = dup2(pair.waited, Int32(min(limit.rlim_cur - 1, 70_000)))
        try #require(high > pair.waited)
        defer { close(high) }
        let wait = Wait(.readable, on: readiness.register(high), deadline: .now + .seconds(30))
        try await Task.sleep(for: Self.settle)
        #expect(wait.result == nil)
        pair.send()
        #expect(try await wait.result(within: .seconds(5)) == .ready)
    }

    @Test func deadlineSetBeforeAWaitGoesToItsRegistrationOnly() async throws {
        let pair = try SocketPair()
        let earlier = readiness.register(pair.waited)
        readiness.shortenDeadline(of: earlier, to: .now)
        // A later registration on the same descriptor does not inherit it...
        let later = Wait(.readable, on: readiness.register(pair.waited))
        // ...while the registration it was meant for takes it with its next wait.
        let own = Wait(.readable, on: earlier)
        #expect(try await own.result(within: .seconds(5)) == .timedOut)
        try await Task.sleep(for: Self.settle)
        #expect(later.result == nil)
        pair.send()
        #expect(try await later.result(within: .seconds(5)) == .ready)
    }
}
