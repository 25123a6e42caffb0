import ResilientPostgresTesting
import Testing
import TestSupport

@Suite("Manual clock", .capturingLogs)
struct ManualClockTests {
    @Test func sleepEndsOnlyWhenTheClockReachesItsDeadline() async throws {
        let clock = ManualClock()
        let sleeper = Task { try await clock.sleep(for: .seconds(5)) }
        let sleep = try await clock.nextSleep()
        #expect(sleep.duration == .seconds(5))
        #expect(sleep.registeredAt == clock.start)
        clock.advance(by: .seconds(4))
        #expect(clock.pendingSleeps == [sleep])
        clock.advance(by: .seconds(1))
        try await sleeper.value
        #expect(clock.pendingSleeps.isEmpty)
        #expect(clock.elapsed == .seconds(5))
    }

    @Test func sleepUntilThePastReturnsAtOnceAndRegistersNothing() async throws {
        let clock = ManualClock()
        clock.advance(by: .seconds(1))
        try await clock.sleep(until: clock.start, tolerance: nil)
        #expect(clock.pendingSleeps.isEmpty)
    }

    @Test func sleepsAreReportedOnceInTheOrderTheyBegan() async throws {
        let clock = ManualClock()
        let long = Task { try await clock.sleep(for: .seconds(10)) }
        let first = try await clock.nextSleep()
        let short = Task { try await clock.sleep(for: .seconds(1)) }
        let second = try await clock.nextSleep()
        #expect(first.duration == .seconds(10))
        #expect(second.duration == .seconds(1))
        #expect(first.number < second.number)
        // Pending sleeps are listed by deadline, and advancing ends the due ones only.
        #expect(clock.pendingSleeps == [second, first])
        #expect(clock.advanceToNextSleep() == second)
        try await short.value
        #expect(clock.pendingSleeps == [first])
        long.cancel()
        await #expect(throws: CancellationError.self) { try await long.value }
        #expect(clock.pendingSleeps.isEmpty)
    }

    @Test func waitForSleepsReturnsWhenEnoughArePending() async throws {
        let clock = ManualClock()
        let sleepers = (1...3).map { seconds in Task { try await clock.sleep(for: .seconds(seconds)) } }
        let pending = try await clock.waitForSleeps(count: 3)
        #expect(pending.map(\.duration) == [.seconds(1), .seconds(2), .seconds(3)])
        clock.advance(by: .seconds(3))
        for sleeper in sleepers { try await sleeper.value }
    }

    @Test func cancelledSleepEndsAtOnceAndIsNotReported() async throws {
        let clock = ManualClock()
        let cancelled = Task { try await clock.sleep(for: .seconds(1)) }
        try await clock.waitForSleeps(count: 1)
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        let kept = Task { try await clock.sleep(for: .seconds(2)) }
        #expect(try await clock.nextSleep().duration == .seconds(2))
        clock.advance(by: .seconds(2))
        try await kept.value
    }

    @Test func cancellingAWaitForASleepEndsIt() async throws {
        let clock = ManualClock()
        let waiting = Task { try await clock.nextSleep() }
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
    }

    @Test func waitForSleepsThatNeverComeFailsSayingWhatItSaw() async throws {
        let clock = ManualClock()
        let sleeper = Task { try await clock.sleep(for: .milliseconds(500)) }
        try await clock.waitForSleeps(count: 1)
        let error = await #expect(throws: WaitTimeout.self) {
            try await clock.waitForSleeps(count: 2, timeout: .milliseconds(20))
        }
        #expect(error?.description == "waited 0.02 s for 2 sleeps; 1 pending: Sleep(#1, 0.5 s)")
        _ = try await clock.nextSleep()
        let next = await #expect(throws: WaitTimeout.self) { try await clock.nextSleep(timeout: .milliseconds(20)) }
        #expect(next?.expected == "the next sleep")
        // A wait that timed out is gone: the sleep still ends as usual.
        clock.advance(by: .milliseconds(500))
        try await sleeper.value
    }

    @Test func runMovesTheClockFromOneSleepToTheNextUntilTheOperationEnds() async throws {
        let clock = ManualClock()
        let slept = try await clock.run {
            // Each sleep begins only after the one before ended: the clock moves once this task waits again.
            for seconds in 1...3 { try await clock.sleep(for: .seconds(seconds)) }
            return clock.elapsed
        }
        #expect(slept == .seconds(6))
        #expect(clock.pendingSleeps.isEmpty)
    }

    @Test func runForWaitsForAWokenTaskThatWorksLongerThanAPauseBeforeSleepingAgain() async throws {
        let clock = ManualClock()
        let wakes = Counter()
        let prober = Task {
            while true {
                try await clock.sleep(for: .seconds(1))
                wakes.increment()
                // Work that takes real time, as a connect does on a slow machine, before the next pause.
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        let deadline = Task { try await clock.sleep(for: .seconds(60)) }
        try await clock.run(for: .seconds(5))
        #expect(wakes.count == 5)
        #expect(clock.pendingSleeps.map(\.deadline) == [clock.start + .seconds(6), clock.start + .seconds(60)])
        prober.cancel()
        deadline.cancel()
    }

    @Test func runForStopsAtItsEndWithLaterSleepsStillPending() async throws {
        let clock = ManualClock()
        let short = Task { try await clock.sleep(for: .seconds(1)) }
        let long = Task { try await clock.sleep(for: .seconds(10)) }
        try await clock.run(for: .seconds(4))
        try await short.value
        #expect(clock.elapsed == .seconds(4))
        #expect(clock.pendingSleeps.map(\.duration) == [.seconds(10)])
        long.cancel()
    }

    @Test func runOfAnOperationThatWaitsOffTheClockTimesOutAndCancelsIt() async throws {
        let clock = ManualClock()
        let cancelled = Counter()
        let error = await #expect(throws: WaitTimeout.self) {
            try await clock.run(timeout: .milliseconds(50)) {
                // A wait the clock cannot end.
                do { try await Task.sleep(for: .seconds(3600)) } catch { cancelled.increment() }
            }
        }
        #expect(error?.description == "waited 0.05 s for the operation to end; the clock at 0 s; none pending")
        try await Task.sleep(for: .milliseconds(20))
        #expect(cancelled.count == 1)
    }

    @Test func cancellingARunCancelsItsOperation() async throws {
        let clock = ManualClock()
        let running = Task {
            try await clock.run { try await Task.sleep(for: .seconds(3600)) }
        }
        try await Task.sleep(for: .milliseconds(10))
        running.cancel()
        await #expect(throws: CancellationError.self) { try await running.value }
    }

    @Test func seededGeneratorRepeatsItsSequence() {
        var first = SeededRandomNumberGenerator(seed: 3)
        var second = SeededRandomNumberGenerator(seed: 3)
        let a = (0..<4).map { _ in Int.random(in: 0..<1000, using: &first) }
        let b = (0..<4).map { _ in Int.random(in: 0..<1000, using: &second) }
        #expect(a == b)
    }
}
