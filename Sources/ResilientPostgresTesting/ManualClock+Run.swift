import ResilientPostgres
import Synchronization

extension ManualClock {
    /// Runs `operation` to its end, moving the clock to the next pending deadline whenever everything else waits on
    /// it, and returns what `operation` returns.
    ///
    /// For code whose waits follow from one another: an operation that waits out an outage while the pool's prober
    /// reconnects, backs off, reconnects again. The clock moves only once everything has settled: nothing began or
    /// ended a sleep on it, and its ``ScriptedDatabase`` saw no connect and no statement, across a few short real
    /// pauses, and every task whose sleep the clock ended has slept on it again. A woken task that does not (it
    /// ended, or waits for something else) holds the clock for a bounded real time, 50 milliseconds or four times the
    /// slowest such step seen so far, at most half a second, so a slow machine slows a run down but does not make
    /// it skip a wait. So every task reaches its next wait before time moves on, and the run takes the path it
    /// would take in production, in milliseconds:
    /// ```swift
    /// let insert = Task { try await client.execute("INSERT INTO payments VALUES (1)", options: .idempotent) }
    /// try await clock.run(for: .seconds(20))     // 20 seconds of outage
    /// database.endOutage()
    /// let inserted = try await clock.run { try await insert.value }
    /// ```
    /// When nothing sleeps on the clock, it waits for `operation` without moving the clock.
    ///
    /// - Parameters:
    ///   - timeout: the most real time the run may take, 10 seconds by default.
    ///   - isolation: the actor `operation` runs on, the caller's by default: from a test isolated to the main
    ///     actor, `operation` may use the test's state.
    ///   - operation: the code to run, in a task of its own.
    /// - Returns: what `operation` returns.
    /// - Throws: what `operation` throws; ``WaitTimeout`` when it has not ended within `timeout` (it is then
    ///   cancelled); `CancellationError` when the calling task is cancelled (`operation` is cancelled too).
    @discardableResult
    public func run<Value>(
        timeout: Duration = WaitTimeout.defaultTimeout,
        isolation: isolated (any Actor)? = #isolation,
        _ operation: @escaping () async throws -> sending Value
    ) async throws -> sending Value {
        let giveUpAt = ContinuousClock.now.advanced(by: timeout)
        let ended = EndFlag()
        let task = Task {
            // Using the isolation makes the task run on the caller's actor, where `operation` belongs.
            _ = isolation
            defer { ended.set() }
            return Disconnected(try await operation())
        }
        return try await withTaskCancellationHandler {
            while true {
                switch try await settle(before: giveUpAt, unless: { ended.isSet }) {
                case .ended:
                    return try await task.value
                case .settled:
                    advanceToNextSleep()
                case .timedOut:
                    task.cancel()
                    throw WaitTimeout(expected: "the operation to end", observed: summary, timeout: timeout)
                }
            }
        } onCancel: {
            task.cancel()
        }.take()
    }

    /// Lets `duration` of clock time pass while the code that uses the clock runs, moving the clock from one pending
    /// deadline to the next whenever everything else waits on it, and returns once everything has settled.
    ///
    /// The clock is then exactly `duration` later, and nothing is under way: a prober is between two connects, not
    /// in one. So the test can change what the database does next (``ScriptedDatabase/endOutage()``) without
    /// racing the client. `run(for: .zero)` only waits until everything has settled.
    ///
    /// - Parameters:
    ///   - duration: the clock time to let pass.
    ///   - timeout: the most real time it may take, 10 seconds by default.
    /// - Throws: ``WaitTimeout`` when things did not settle within `timeout` (something keeps running without
    ///   waiting on the clock); `CancellationError` when the calling task is cancelled.
    public func run(for duration: Duration, timeout: Duration = WaitTimeout.defaultTimeout) async throws {
        precondition(duration >= .zero, "a clock only moves forward")
        let giveUpAt = ContinuousClock.now.advanced(by: timeout)
        let target = now.advanced(by: duration)
        while true {
            guard try await settle(before: giveUpAt, unless: { false }) == .settled else {
                let elapsedAtTarget = start.duration(to: target).shortDescription
                throw WaitTimeout(
                    expected: "the clock to reach \(elapsedAtTarget) with everything settled",
                    observed: summary,
                    timeout: timeout
                )
            }
            if now >= target { return }
            if let next = pendingSleeps.first, next.deadline <= target {
                advance(to: next.deadline)
            } else {
                advance(to: target)
            }
        }
    }

    // MARK: - Settling

    /// How a wait for everything to settle ended.
    private enum Settling {
        /// Nothing happened across ``settledPauses`` pauses in a row: everything left waits on the clock.
        case settled
        /// The caller's condition came true.
        case ended
        /// The real time ran out.
        case timedOut
    }

    /// One real pause between two looks at the clock's count of changes.
    private static let settlePause = Duration.milliseconds(1)

    /// How many pauses in a row must see no change. A task that is ready to run has several pauses of real time
    /// to take its next step; on a loaded machine it may wait for a thread for a while.
    private static let settledPauses = 3

    /// A pause that took longer than this in real time says the machine is short of CPU: the system may have held
    /// a task that was ready to run for as long, so the pause is no evidence that everything waits on the clock.
    private static let starvedPause = Duration.milliseconds(3)

    /// How long settling looks for pauses that were not starved before it counts starved ones too, so that a
    /// machine that stays loaded slows a run down but never stops it.
    private static let starvedPatience = Duration.milliseconds(250)

    /// Waits, in short real pauses, until nothing has happened on the clock or its database for ``settledPauses``
    /// of them, with every task whose sleep the clock ended asleep on it again (or past its allowance,
    /// ``ManualClock/stepAllowance(after:)``), until `isOver` holds, or until `giveUpAt` in real time.
    private func settle(
        before giveUpAt: ContinuousClock.Instant,
        unless isOver: () -> Bool
    ) async throws -> Settling {
        var last = changes
        var unchanged = 0
        let began = ContinuousClock.now
        while true {
            if isOver() { return .ended }
            if ContinuousClock.now >= giveUpAt { return .timedOut }
            let pauseBegan = ContinuousClock.now
            try await Task.sleep(for: Self.settlePause)
            let pauseEnded = ContinuousClock.now
            if isOver() { return .ended }
            let seen = changes
            // A task whose sleep the clock ended may be waiting for a thread, or running its next step.
            if hasTasksStepping {
                unchanged = 0
            } else if seen == last {
                let starved = pauseEnded - pauseBegan > Self.starvedPause
                if !starved || pauseEnded - began > Self.starvedPatience {
                    unchanged += 1
                    if unchanged >= Self.settledPauses { return .settled }
                } else {
                    unchanged = 0
                }
            } else {
                last = seen
                unchanged = 0
            }
        }
    }

    /// The clock's time and pending sleeps, for a failure message.
    private var summary: String { "the clock at \(elapsed.shortDescription); \(pendingSummary)" }
}

/// Set once, when an operation run by ``ManualClock/run(timeout:isolation:_:)`` has ended; read by the task moving the
/// clock.
private final class EndFlag: Sendable {
    private let value = Atomic(false)

    func set() { value.store(true, ordering: .releasing) }

    var isSet: Bool { value.load(ordering: .acquiring) }
}
