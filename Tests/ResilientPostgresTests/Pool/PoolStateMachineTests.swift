import PostgresPolicy
import PostgresTransport
import ResilientPostgres
import ResilientPostgresTesting
import Testing
import TestSupport

/// The pool's decisions, driven through every transition without awaiting anything: each test says what happens,
/// at which instant, and checks the actions the machine returns and the counts it keeps.
@Suite("Pool state machine", .capturingLogs)
struct PoolStateMachineTests {
    // MARK: - Lending and returning

    @Test func aFullPoolQueuesOperationsFirstComeFirstServedAndHandsSessionsOn() throws {
        let pool = Subject(maxConnections: 2)
        let c1 = try pool.open("c1", at: 0)
        let c2 = try pool.open("c2", at: 0)
        #expect(pool.counts == .init(open: 2, idle: 0, waiting: 0))

        let (w1, setTimer) = try pool.wait(deadline: 10, at: 1)
        #expect(setTimer == ["set operations timer for 10.0"])
        let (w2, later) = try pool.wait(deadline: 20, at: 1)
        #expect(later == [])
        #expect(pool.counts == .init(open: 2, idle: 0, waiting: 2))

        // A session given back goes to the first waiter; the timer stays set for a deadline that passed out of use.
        #expect(pool.release(c1, at: 2) == ["resume \(w1): lease c1"])
        // A slot freed lets the next one open a session of its own.
        #expect(pool.release(c2, reusable: false, at: 3) == ["close c2"])
        #expect(pool.closed(c2) == ["resume \(w2): connect", "cancel operations timer"])
        #expect(pool.counts == .init(open: 2, idle: 0, waiting: 0))
        #expect(pool.machine.connecting == 1)
        #expect(try pool.connected("c3", at: 3).step == "lease c3")
    }

    @Test func idleSessionsAreLentLastInFirstOutWithoutActions() throws {
        let pool = Subject(maxConnections: 3)
        let c1 = try pool.open("c1", at: 0)
        let c2 = try pool.open("c2", at: 0)
        #expect(pool.release(c1, at: 1) == ["set housekeeping timer for 61.0"])
        #expect(pool.release(c2, at: 2) == [])
        #expect(pool.counts == .init(open: 2, idle: 2, waiting: 0))

        #expect(pool.request(deadline: 60, at: 3) == ("lease c2", []))
        #expect(pool.request(deadline: 60, at: 3) == ("lease c1", []))
        #expect(pool.request(deadline: 60, at: 3) == ("connect", []))
        #expect(pool.counts == .init(open: 3, idle: 0, waiting: 0))
    }

    @Test func aSessionPastItsLifetimeIsClosedInsteadOfLent() throws {
        let pool = Subject(maxConnections: 1, maxLifetime: 100)
        let c1 = try pool.open("c1", at: 0)
        #expect(pool.release(c1, at: 50) == ["set housekeeping timer for 100.0"])
        #expect(pool.request(deadline: 200, at: 100) == ("retry", ["close c1"]))
        #expect(pool.closed(c1) == [])
        #expect(pool.request(deadline: 200, at: 100) == ("connect", []))
        // Given back past its lifetime, a session is closed too.
        let c2 = try pool.lease("c2", at: 100)
        #expect(pool.release(c2, at: 200) == ["close c2"])
    }

    @Test func aResetRunsBeforeASessionIsLentAgainWithinTheOperationsDeadline() throws {
        let pool = Subject(maxConnections: 3)
        let c1 = try pool.open("c1", at: 0)
        let c2 = try pool.open("c2", at: 0)
        let c3 = try pool.open("c3", at: 0)
        // At most the liveness check timeout, and no later than the operation's deadline.
        #expect(pool.release(c1, resettingBy: 3, at: 1) == ("reset by 3.0", []))
        #expect(pool.resetFinished(c1, succeeded: true, at: 2) == ["set housekeeping timer for 62.0"])
        #expect(pool.release(c2, resettingBy: 100, at: 2) == ("reset by 7.0", []))
        #expect(pool.resetFinished(c2, succeeded: false, at: 3) == ["close c2"])
        // No time left to reset: closed.
        #expect(pool.release(c3, resettingBy: 3, at: 3) == ("done", ["close c3"]))
        #expect(pool.counts == .init(open: 3, idle: 1, waiting: 0))
    }

    // MARK: - Deadlines and cancellation

    @Test func theOperationsTimerIsSetForTheEarliestDeadlineAndEndsWaitsThere() throws {
        let pool = Subject(maxConnections: 1)
        _ = try pool.open("c1", at: 0)
        let (w1, first) = try pool.wait(deadline: 10, at: 0)
        let (w2, earlier) = try pool.wait(deadline: 5, at: 0)
        let (w3, later) = try pool.wait(deadline: 20, at: 0)
        #expect(first == ["set operations timer for 10.0"])
        #expect(earlier == ["set operations timer for 5.0"])
        #expect(later == [])

        // The timer set for 10 s was replaced: when it goes off anyway, nothing happens.
        #expect(pool.fire(pool.timers[0], at: 10) == nil)
        #expect(pool.fire(pool.timers[1], at: 5) == ["resume \(w2): fail timed out", "set operations timer for 10.0"])
        #expect(pool.fire(pool.timers[2], at: 10) == ["resume \(w1): fail timed out", "set operations timer for 20.0"])
        #expect(pool.fire(pool.timers[3], at: 20) == ["resume \(w3): fail timed out"])
        #expect(pool.machine.operationsTimer == nil)
        // An operation whose deadline passed already fails at once instead of waiting.
        #expect(pool.request(deadline: 30, at: 31) == ("fail timed out", []))
        #expect(pool.counts == .init(open: 1, idle: 0, waiting: 0))
    }

    @Test func aCancelledWaiterLeavesTheQueueAtOnceAndOnlyOnce() throws {
        let pool = Subject(maxConnections: 1)
        let c1 = try pool.open("c1", at: 0)
        let (w1, _) = try pool.wait(deadline: 10, at: 0)
        let (w2, _) = try pool.wait(deadline: 20, at: 0)

        #expect(pool.cancel(w1) == ["resume \(w1): fail cancelled"])
        #expect(pool.cancel(w1) == [])
        #expect(pool.release(c1, at: 1) == ["resume \(w2): lease c1", "cancel operations timer"])
        // Handed its session already: a cancel that comes late changes nothing.
        #expect(pool.cancel(w2) == [])
        #expect(pool.counts == .init(open: 1, idle: 0, waiting: 0))
    }

    // MARK: - Liveness checks

    @Test func aSessionIdlePastTheLivenessIntervalIsCheckedFirst() throws {
        let pool = Subject(maxConnections: 2)
        let c1 = try pool.open("c1", at: 0)
        _ = pool.release(c1, at: 0)
        #expect(pool.request(deadline: 100, at: 40) == ("check c1 by 45.0", []))
        #expect(pool.checkPassed(c1, at: 41) == ("lease c1", []))
        // With the operation's deadline passed, no check starts; the session stays idle.
        _ = pool.release(c1, at: 41)
        #expect(pool.request(deadline: 75, at: 80) == ("fail timed out", []))
        #expect(pool.counts == .init(open: 1, idle: 1, waiting: 0))
        // Checked within the operation's deadline when that is nearer than the check timeout.
        #expect(pool.request(deadline: 82, at: 80) == ("check c1 by 82.0", []))
    }

    @Test func aFailedCheckClosesEveryIdleSessionDueACheck() throws {
        let pool = Subject(maxConnections: 4)
        let sessions = try ["c1", "c2", "c3", "c4"].map { try pool.open($0, at: 0) }
        for session in sessions.prefix(3) { _ = pool.release(session, at: 0) }
        _ = pool.release(sessions[3], at: 35)
        #expect(pool.request(deadline: 100, at: 40) == ("lease c4", []))
        #expect(pool.request(deadline: 100, at: 40) == ("check c3 by 45.0", []))
        // The others share the path to the server that just failed: closed with it, not checked one by one.
        #expect(pool.checkFailed(sessions[2], deadline: 100, at: 45) == ("retry", ["close c3", "close c1", "close c2"]))
        #expect(pool.counts == .init(open: 4, idle: 0, waiting: 0))
        for session in sessions.prefix(3) { _ = pool.closed(session) }
        #expect(pool.request(deadline: 100, at: 45) == ("connect", []))
    }

    @Test func aCheckEndedByCancellationClosesOnlyItsSession() throws {
        let pool = Subject(maxConnections: 2)
        let c1 = try pool.open("c1", at: 0)
        let c2 = try pool.open("c2", at: 0)
        _ = pool.release(c1, at: 0)
        _ = pool.release(c2, at: 0)
        #expect(pool.request(deadline: 100, at: 40) == ("check c2 by 45.0", []))
        #expect(pool.checkFailed(c2, cancelled: true, deadline: 100, at: 41) == ("fail cancelled", ["close c2"]))
        #expect(pool.counts == .init(open: 2, idle: 1, waiting: 0))
        // A failure at the deadline ends the operation.
        #expect(pool.request(deadline: 50, at: 41) == ("check c1 by 46.0", []))
        #expect(pool.checkFailed(c1, deadline: 50, at: 50) == ("fail timed out", ["close c1"]))
    }

    // MARK: - Epochs

    @Test func anEpochChangeClosesIdleSessionsNowAndLentOnesWhenTheyComeBack() throws {
        let pool = Subject(maxConnections: 3)
        let c1 = try pool.open("c1", at: 0)
        let c2 = try pool.open("c2", at: 0)
        let c3 = try pool.open("c3", at: 0)
        _ = pool.release(c1, at: 0)
        _ = pool.release(c3, at: 0)
        #expect(pool.request(deadline: 100, at: 31) == ("check c3 by 36.0", []))

        #expect(pool.retireEpoch() == ["close c1"])
        #expect(pool.machine.epoch == 1)
        // The session being checked is lent if it passes, and closed when it comes back.
        #expect(pool.checkPassed(c3, at: 32) == ("lease c3", []))
        #expect(pool.release(c3, at: 33) == ["close c3"])
        #expect(pool.release(c2, at: 33) == ["close c2"])
        for session in [c1, c2, c3] { _ = pool.closed(session) }
        // Sessions opened now are of the new epoch, and kept.
        let c4 = try pool.open("c4", at: 34)
        // The housekeeping timer, set for c1, is not set again for a session due later.
        #expect(pool.release(c4, at: 35) == [])
        #expect(pool.counts == .init(open: 1, idle: 1, waiting: 0))
    }

    // MARK: - Outages and the prober

    @Test func anOutageHasOneProberAndItsSessionGoesToTheFirstWaiter() throws {
        let pool = Subject(maxConnections: 2)
        #expect(pool.request(deadline: 60, at: 0) == ("connect", []))
        #expect(pool.connectFailed(.connectionRefused, at: 0) == (
            "fail connect failed", ["set operations timer for 0.5"]
        ))
        #expect(pool.machine.isInOutage)
        #expect(pool.counts == .init(open: 0, idle: 0, waiting: 0))

        // During the outage operations wait instead of connecting themselves.
        let (w1, _) = try pool.wait(deadline: 60, at: 0.1)
        let (w2, none) = try pool.wait(deadline: 60, at: 0.1)
        #expect(none == [])
        #expect(pool.fire(pool.timers.last!, at: 0.5) == ["probe by 10.5", "set operations timer for 60.0"])
        #expect(pool.machine.outage?.prober == .connecting)
        #expect(pool.proberFailed(.connectionRefused, at: 0.6) == ["set operations timer for 1.1"])
        #expect(pool.fire(pool.timers.last!, at: 1.1) == ["probe by 11.1", "set operations timer for 60.0"])

        // The database is back: the first waiter gets the prober's session, the next a slot to open its own.
        #expect(pool.proberConnected("c1", at: 1.2) == [
            "resume \(w1): lease c1", "resume \(w2): connect", "cancel operations timer",
        ])
        #expect(!pool.machine.isInOutage)
        #expect(pool.counts == .init(open: 2, idle: 0, waiting: 0))
        #expect(pool.machine.connecting == 1)
    }

    @Test func theProberHurriesForAWaitersDeadlineButNotBelowTheMinimumGap() throws {
        let pool = Subject(maxConnections: 2, reconnectBackoff: .constant(.seconds(5)))
        _ = pool.request(deadline: 60, at: 0)
        #expect(pool.connectFailed(.connectionRefused, at: 0).actions == ["set operations timer for 5.0"])
        let (w1, _) = try pool.wait(deadline: 9, at: 0)
        #expect(pool.fire(pool.timers.last!, at: 5) == ["probe by 15.0", "set operations timer for 9.0"])
        // Halfway to the waiter's deadline: 2 s, then 1 s, then never less than the minimum gap of 1 s.
        #expect(pool.proberFailed(.connectionRefused, at: 5) == ["set operations timer for 7.0"])
        _ = pool.fire(pool.timers.last!, at: 7)
        #expect(pool.proberFailed(.connectionRefused, at: 7) == ["set operations timer for 8.0"])
        _ = pool.fire(pool.timers.last!, at: 8)
        // The timer set for the waiter's deadline while the prober connected stays.
        #expect(pool.proberFailed(.connectionRefused, at: 8) == [])

        // The waiter gives up with the last failure; with no one left, the prober wakes once more, then the outage
        // ends and the next operation connects itself.
        #expect(pool.fire(pool.timers.last!, at: 9) == [
            "resume \(w1): fail timed out waiting for the database", "set operations timer for 14.0",
        ])
        #expect(pool.fire(pool.timers.last!, at: 14) == [])
        #expect(!pool.machine.isInOutage)
        #expect(pool.request(deadline: 60, at: 14) == ("connect", []))
    }

    @Test func aPermanentFailureOfTheProberFailsEveryWaiter() throws {
        let pool = Subject(maxConnections: 2)
        _ = pool.request(deadline: 60, at: 0)
        _ = pool.connectFailed(.connectionRefused, at: 0)
        let (w1, _) = try pool.wait(deadline: 60, at: 0)
        let (w2, _) = try pool.wait(deadline: 60, at: 0)
        _ = pool.fire(pool.timers.last!, at: 0.5)
        #expect(pool.proberFailed(.authenticationFailed, at: 0.6) == [
            "resume \(w1): fail 28P01", "resume \(w2): fail 28P01", "cancel operations timer",
        ])
        #expect(!pool.machine.isInOutage)
        #expect(pool.counts == .init(open: 0, idle: 0, waiting: 0))
    }

    // MARK: - Slot pressure

    @Test func aServerShortOfSlotsIsProbedOnTheLongerPaceAndGetsUnwantedSessionsBack() throws {
        let pool = Subject(maxConnections: 3)
        let c1 = try pool.open("c1", at: 0)
        let c2 = try pool.open("c2", at: 0)
        #expect(pool.request(deadline: 60, at: 1) == ("connect", []))
        #expect(pool.connectFailed(.tooManyConnections, at: 1) == (
            "fail 53300", ["set operations timer for 3.0"]
        ))
        let (w1, _) = try pool.wait(deadline: 60, at: 1)
        // Someone waits: the session goes to them. No one does: it goes back to the server.
        #expect(pool.release(c1, at: 2) == ["resume \(w1): lease c1"])
        #expect(pool.release(c2, at: 2) == ["close c2"])
        #expect(pool.closed(c2) == [])
        // Once the refusal is 30 s old, sessions are kept idle again.
        #expect(pool.release(c1, at: 31) == ["set housekeeping timer for 91.0"])
    }

    // MARK: - Housekeeping

    @Test func housekeepingClosesSessionsIdleTooLongAndSetsItselfForTheNext() throws {
        let pool = Subject(maxConnections: 2)
        let c1 = try pool.open("c1", at: 0)
        let c2 = try pool.open("c2", at: 0)
        #expect(pool.release(c1, at: 10) == ["set housekeeping timer for 70.0"])
        #expect(pool.release(c2, at: 20) == [])
        #expect(pool.fire(pool.timers[0], at: 70) == ["close c1"])
        #expect(pool.machine.housekeeping == .running)
        #expect(pool.closed(c1) == [])
        #expect(pool.housekeepingFinished(at: 70) == ["set housekeeping timer for 80.0"])
        #expect(pool.fire(pool.timers[1], at: 80) == ["close c2"])
        _ = pool.closed(c2)
        #expect(pool.housekeepingFinished(at: 80) == [])
        #expect(pool.machine.housekeeping == .stopped)
        #expect(pool.counts == .init(open: 0, idle: 0, waiting: 0))
    }

    @Test func housekeepingIsSetEarlierForASessionWhoseLifetimeEndsFirst() throws {
        let pool = Subject(maxConnections: 2, maxLifetime: 100)
        let c1 = try pool.open("c1", at: 0)
        let c2 = try pool.open("c2", at: 50)
        #expect(pool.release(c2, at: 50) == ["set housekeeping timer for 110.0"])
        #expect(pool.release(c1, at: 60) == ["set housekeeping timer for 100.0"])
    }

    @Test func lifetimesAreDrawnAcrossTheSpreadAndNeverExceedTheMaximum() throws {
        let pool = Subject(maxConnections: 50, maxLifetime: 100, lifetimeSpread: 40)
        let leases = try (0..<50).map { try pool.open("c\($0)", at: 0) }
        let ends = leases.map { pool.machine.sessions[$0.id]!.endOfLife }
        #expect(ends.allSatisfy { $0 >= at(60) && $0 <= at(100) })
        // Spread over the window, not bunched: every fifth of it has some.
        let fifths = Set(ends.map { Int(($0.offset - .seconds(60)) / .seconds(8)) })
        #expect(fifths.isSuperset(of: 0..<5))
        #expect(Set(ends).count == 50)
    }

    @Test func sessionsOpenedTogetherAreClosedOneByOneAsTheirLifetimesEnd() throws {
        // Lifetimes between 25 and 50 seconds, all ending before the idle timeout (60 seconds).
        let pool = Subject(maxConnections: 3, maxLifetime: 50, lifetimeSpread: 25)
        let leases = try (1...3).map { try pool.open("c\($0)", at: 0) }
        for lease in leases { _ = pool.release(lease, at: 1) }
        let ends = leases.map { pool.machine.sessions[$0.id]!.endOfLife }.sorted()
        var closes: [[String]] = []
        for end in ends {
            let timer = try #require(pool.timers.last)
            #expect(timer.deadline == end)
            closes.append(try #require(pool.fire(timer, at: end)))
            for lease in leases where pool.machine.sessions[lease.id]?.state == .closing { _ = pool.closed(lease) }
            _ = pool.housekeepingFinished(at: end)
        }
        #expect(closes.map(\.count) == [1, 1, 1])
        #expect(pool.counts == .init(open: 0, idle: 0, waiting: 0))
    }

    @Test func minimumIdleSessionsAreOpenedUpToTheMinimumAndNoFurther() throws {
        let pool = Subject(maxConnections: 3, minimumIdle: 2)
        #expect(pool.request(deadline: 60, at: 0) == ("connect", ["set housekeeping timer for 5.0"]))
        #expect(pool.machine.reserveMinimumIdleSlot(now: at(0)) == at(10))
        #expect(pool.machine.reserveMinimumIdleSlot(now: at(0)) != nil)
        #expect(pool.machine.reserveMinimumIdleSlot(now: at(0)) == nil)
        #expect(pool.idleConnected("c1", at: 1) == [])
        // A transient failure starts an outage; the slot frees.
        #expect(pool.idleConnectFailed(.connectionRefused, at: 1) == ["set operations timer for 1.5"])
        #expect(pool.counts == .init(open: 2, idle: 1, waiting: 0))
        #expect(pool.machine.reserveMinimumIdleSlot(now: at(1)) == nil)
    }

    // MARK: - Shutdown at every point

    @Test func shutdownFailsWaitersAndCancelsTheTimerThenClosesSessionsAsTheyComeBack() throws {
        let pool = Subject(maxConnections: 1)
        let c1 = try pool.open("c1", at: 0)
        let (w1, _) = try pool.wait(deadline: 10, at: 0)
        let (w2, _) = try pool.wait(deadline: 20, at: 0)
        #expect(pool.shutdown() == [
            "resume \(w1): fail shut down", "resume \(w2): fail shut down", "cancel operations timer",
        ])
        #expect(pool.shutdown() == [])
        #expect(pool.release(c1, at: 1) == ["close c1"])
        #expect(pool.closed(c1) == [])
        #expect(pool.request(deadline: 60, at: 1) == ("fail shut down", []))
        #expect(pool.counts == .init(open: 0, idle: 0, waiting: 0))
    }

    @Test func shutdownClosesIdleSessionsAndStopsHousekeepingAndTheOutage() throws {
        let pool = Subject(maxConnections: 2)
        // A connect under way, a session kept idle, then the connect fails: an outage.
        #expect(pool.request(deadline: 60, at: 0).step == "connect")
        let c1 = try pool.open("c1", at: 0)
        _ = pool.release(c1, at: 0)
        _ = pool.connectFailed(.connectionRefused, at: 0)
        #expect(pool.shutdown() == ["close c1", "cancel operations timer", "cancel housekeeping timer"])
        #expect(!pool.machine.isInOutage)
        #expect(pool.machine.housekeeping == .stopped)
        #expect(pool.machine.reserveMinimumIdleSlot(now: at(1)) == nil)
    }

    @Test func aSessionOpenedDuringShutdownIsClosedWhateverItWasFor() throws {
        let pool = Subject(maxConnections: 3, minimumIdle: 1)
        #expect(pool.request(deadline: 60, at: 0).step == "connect")
        #expect(pool.machine.reserveMinimumIdleSlot(now: at(0)) != nil)
        _ = pool.shutdown()
        #expect(try pool.connected("c1", at: 1) == ("fail shut down", ["close c1"]))
        #expect(pool.idleConnected("c2", at: 1) == ["close c2"])
        #expect(pool.counts == .init(open: 2, idle: 0, waiting: 0))
    }

    @Test func aProbeEndingAfterShutdownOnlyFreesItsSlotOrClosesItsSession() throws {
        let pool = Subject(maxConnections: 2)
        _ = pool.request(deadline: 60, at: 0)
        _ = pool.connectFailed(.connectionRefused, at: 0)
        _ = try pool.wait(deadline: 60, at: 0)
        _ = pool.fire(pool.timers.last!, at: 0.5)
        _ = pool.shutdown()
        #expect(pool.proberFailed(.connectionRefused, at: 1) == [])
        #expect(pool.counts == .init(open: 0, idle: 0, waiting: 0))

        let other = Subject(maxConnections: 2)
        _ = other.request(deadline: 60, at: 0)
        _ = other.connectFailed(.connectionRefused, at: 0)
        _ = try other.wait(deadline: 60, at: 0)
        _ = other.fire(other.timers.last!, at: 0.5)
        _ = other.shutdown()
        #expect(other.proberConnected("c1", at: 1) == ["close c1"])
    }

    @Test func aSessionCheckedOrResetDuringShutdownIsClosed() throws {
        let pool = Subject(maxConnections: 2)
        let c1 = try pool.open("c1", at: 0)
        let c2 = try pool.open("c2", at: 0)
        _ = pool.release(c1, at: 0)
        #expect(pool.request(deadline: 100, at: 40) == ("check c1 by 45.0", []))
        #expect(pool.release(c2, resettingBy: 100, at: 40) == ("reset by 45.0", []))
        #expect(pool.shutdown() == ["cancel housekeeping timer"])
        #expect(pool.checkPassed(c1, at: 41) == ("fail shut down", ["close c1"]))
        #expect(pool.resetFinished(c2, succeeded: true, at: 41) == ["close c2"])
        _ = pool.closed(c1)
        _ = pool.closed(c2)
        #expect(pool.counts == .init(open: 0, idle: 0, waiting: 0))
    }
}
