import PostgresTransport
import ResilientPostgres
import Testing

/// The pool's jittered waves of connects (`connectJitter`): its first connect, and its first after it lost sessions,
/// wait a delay drawn at random, so that instances started or cut off together do not connect in lockstep.
@Suite("Pool connect jitter", .capturingLogs)
struct PoolConnectJitterTests {
    /// Queues the operations of a cold pool behind its hold; returns the hold's timer and its instant in seconds.
    private func holdOfAColdStart(_ pool: Subject, waiters: Int) throws -> (Machine.Timer, Double) {
        for _ in 0..<waiters { _ = try pool.wait(deadline: 60, at: 0) }
        let timer = try #require(pool.timers.last)
        return (timer, try #require(Double(seconds(timer.deadline))))
    }

    @Test func aColdPoolHoldsItsFirstConnectsForADelayDrawnBelowTheJitter() throws {
        let pool = Subject(maxConnections: 4, connectJitter: 1)
        let (timer, end) = try holdOfAColdStart(pool, waiters: 2)
        #expect(end > 0 && end < 1)
        #expect(pool.machine.connectsHeldUntil == timer.deadline)
        #expect(pool.counts == .init(open: 0, idle: 0, waiting: 2))

        let actions = try #require(pool.fire(timer, at: timer.deadline))
        #expect(actions.filter { $0.hasSuffix(": connect") }.count == 2)
        #expect(pool.machine.connectsHeldUntil == nil)
        _ = try pool.connected("c1", at: 1)
        // The wave is over: the next operation connects at once.
        #expect(pool.request(deadline: 60, at: 1) == ("connect", []))
    }

    @Test func withoutJitterTheFirstConnectStartsAtOnce() {
        let pool = Subject(maxConnections: 4)
        #expect(pool.request(deadline: 60, at: 0) == ("connect", []))
        #expect(pool.machine.connectsHeldUntil == nil)
    }

    @Test func sessionsLostTogetherStartOneNewWave() throws {
        let pool = Subject(maxConnections: 4, connectJitter: 1)
        let (timer, _) = try holdOfAColdStart(pool, waiters: 1)
        _ = pool.fire(timer, at: timer.deadline)
        let c1 = try pool.lease("c1", at: 1)
        let c2 = try pool.open("c2", at: 1)

        // A restart: the first session comes back broken, and the next connect is held.
        #expect(pool.release(c1, reusable: false, at: 10) == ["close c1"])
        let (w1, _) = try pool.wait(deadline: 70, at: 10)
        let held = try #require(pool.machine.connectsHeldUntil)
        // The second one breaks during the hold: no second hold.
        #expect(pool.release(c2, reusable: false, at: 10) == ["close c2"])
        #expect(pool.machine.connectsHeldUntil == held)

        let timerAfterTheLoss = try #require(pool.timers.last)
        let fired = try #require(pool.fire(timerAfterTheLoss, at: held))
        #expect(fired.contains("resume \(w1): connect"))
        #expect(pool.machine.connectsHeldUntil == nil)
    }

    @Test func sessionsLostDuringAnOutageAreNotHeldAfterTheProber() throws {
        let pool = Subject(maxConnections: 4, connectJitter: 1)
        _ = try pool.wait(deadline: 60, at: 0)
        let hold = try #require(pool.timers.last)
        _ = pool.fire(hold, at: hold.deadline)
        let c1 = try pool.lease("c1", at: 1)
        let c2 = try pool.open("c2", at: 1)
        #expect(pool.request(deadline: 60, at: 2).step == "connect")
        // The server goes down: the connect fails, and the sessions given back broken during the outage (no connect
        // under way) mark a new wave, which the prober's success ends.
        _ = pool.connectFailed(.connectionRefused, at: 2)
        #expect(pool.machine.isInOutage)
        _ = pool.release(c1, reusable: false, at: 2)
        _ = pool.release(c2, reusable: false, at: 2)
        let (w1, _) = try pool.wait(deadline: 60, at: 2)
        let (w2, _) = try pool.wait(deadline: 60, at: 2)
        let wake = try #require(pool.timers.last)
        _ = pool.fire(wake, at: wake.deadline)

        // Its session goes to the first waiter; the second opens its own at once.
        let actions = pool.proberConnected("p1", at: 3)
        #expect(actions.contains("resume \(w1): lease p1"))
        #expect(actions.contains("resume \(w2): connect"))
        #expect(pool.machine.connectsHeldUntil == nil)
    }

    @Test func aHoldThatEndedBeforeItsTimerLetsTheWaitersConnectFirst() throws {
        let pool = Subject(maxConnections: 4, maxConcurrentConnects: 1, connectJitter: 1)
        let (_, end) = try holdOfAColdStart(pool, waiters: 1)
        let w1 = try #require(pool.machine.waiters.first?.id)
        // The timer runs late; an operation asks past the hold's end.
        let (step, actions) = pool.request(deadline: 60, at: end + 0.5)
        #expect(actions == ["resume \(w1): connect"])
        #expect(step.hasPrefix("wait"))
    }

    @Test func aWaiterWhoseDeadlineComesBeforeTheHoldsEndTimesOut() throws {
        let pool = Subject(maxConnections: 4, connectJitter: 10)
        let (w1, _) = try pool.wait(deadline: 0.001, at: 0)
        let timer = try #require(pool.timers.last)
        #expect(timer.deadline == at(0.001))
        let fired = try #require(pool.fire(timer, at: 0.001))
        #expect(fired.contains { $0.hasPrefix("resume \(w1): fail") })
    }

    @Test func minimumIdleFillsOnceTheHoldIsOverWithoutAnyOperation() {
        let pool = Subject(maxConnections: 4, minimumIdle: 2, connectJitter: 1)
        // The first minimum idle connect starts the cold start's hold; with no operation waiting, the housekeeping
        // alone must open the sessions once the hold is over.
        #expect(pool.machine.reserveMinimumIdleSlot(now: at(0)) == nil)
        #expect(pool.machine.reserveMinimumIdleSlot(now: at(5)) != nil)
    }
}
