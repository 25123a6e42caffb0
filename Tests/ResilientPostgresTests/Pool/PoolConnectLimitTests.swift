import PostgresPolicy
import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

/// The pool's limit on connects under way at once (`maxConcurrentConnects`): a client whose sessions all dropped
/// refills its pool a few sessions at a time, not all at once.
@Suite("Pool connect limit", .capturingLogs)
struct PoolConnectLimitTests {
    @Test func operationsBeyondTheLimitWaitAndEachConnectsEndLetsTheNextOneOpenItsOwn() throws {
        let pool = Subject(maxConnections: 4, maxConcurrentConnects: 2)
        #expect(pool.request(deadline: 60, at: 0) == ("connect", []))
        #expect(pool.request(deadline: 60, at: 0) == ("connect", []))
        let (w1, timer) = try pool.wait(deadline: 60, at: 0)
        #expect(timer == ["set operations timer for 60.0"])
        let (w2, _) = try pool.wait(deadline: 60, at: 0)
        #expect(pool.counts == .init(open: 2, idle: 0, waiting: 2))

        // One connect ends: the first waiter opens its own, still two at a time.
        #expect(try pool.connected("c1", at: 1) == ("lease c1", ["resume \(w1): connect"]))
        #expect(pool.machine.connecting == 2)
        #expect(try pool.connected("c2", at: 1) == ("lease c2", ["resume \(w2): connect", "cancel operations timer"]))
        #expect(pool.counts == .init(open: 4, idle: 0, waiting: 0))
    }

    @Test func aWaiterTakesASessionThatComesBackBeforeAConnectEnds() throws {
        let pool = Subject(maxConnections: 4, maxConcurrentConnects: 1)
        let c1 = try pool.open("c1", at: 0)
        #expect(pool.request(deadline: 60, at: 1) == ("connect", []))
        let (w1, _) = try pool.wait(deadline: 60, at: 1)
        #expect(pool.release(c1, at: 2) == ["resume \(w1): lease c1", "cancel operations timer"])
        // The connect under way ends with no one waiting for it.
        #expect(try pool.connected("c2", at: 3) == ("lease c2", []))
        #expect(pool.counts == .init(open: 2, idle: 0, waiting: 0))
    }

    @Test func aFailedConnectLeavesTheWaitersToTheProberWhenTheServerIsDown() throws {
        let pool = Subject(maxConnections: 4, maxConcurrentConnects: 1)
        #expect(pool.request(deadline: 60, at: 0) == ("connect", []))
        let (w1, _) = try pool.wait(deadline: 60, at: 0)
        let failed = pool.connectFailed(.connectionRefused, at: 1)
        #expect(failed.step.hasPrefix("fail"))
        // The outage began: no operation connects, the prober does after its backoff.
        #expect(!failed.actions.contains("resume \(w1): connect"))
        #expect(pool.machine.isInOutage)
        #expect(pool.counts == .init(open: 0, idle: 0, waiting: 1))
    }

    @Test func aClosedSessionsSlotWaitsForAConnectToEndWhenTheLimitIsReached() throws {
        let pool = Subject(maxConnections: 2, maxConcurrentConnects: 1)
        let c1 = try pool.open("c1", at: 0)
        #expect(pool.request(deadline: 60, at: 1) == ("connect", []))
        let (w1, _) = try pool.wait(deadline: 60, at: 1)
        #expect(pool.release(c1, reusable: false, at: 2) == ["close c1"])
        // The slot frees, but one connect is under way already.
        #expect(pool.closed(c1) == [])
        #expect(pool.counts == .init(open: 1, idle: 0, waiting: 1))
        #expect(try pool.connected("c2", at: 3) == ("lease c2", ["resume \(w1): connect", "cancel operations timer"]))
    }

    @Test func aWaiterPastItsDeadlineIsFailedNotHandedAConnect() throws {
        let pool = Subject(maxConnections: 4, maxConcurrentConnects: 1)
        #expect(pool.request(deadline: 60, at: 0) == ("connect", []))
        let (w1, _) = try pool.wait(deadline: 5, at: 0)
        // The connect under way ends after w1's deadline, before the operations' timer went off.
        let (step, actions) = try pool.connected("c1", at: 6)
        #expect(step == "lease c1")
        #expect(!actions.contains("resume \(w1): connect"))
        #expect(actions.contains { $0.hasPrefix("resume \(w1): fail") })
        #expect(pool.counts == .init(open: 1, idle: 0, waiting: 0))
    }

    @Test func aSlotFreedAfterAWaitersDeadlineGoesToTheNextWaiterInTime() throws {
        let pool = Subject(maxConnections: 1, maxConcurrentConnects: 1)
        let c1 = try pool.open("c1", at: 0)
        let (w1, _) = try pool.wait(deadline: 5, at: 0)
        let (w2, _) = try pool.wait(deadline: 60, at: 0)
        #expect(pool.release(c1, reusable: false, at: 6) == ["close c1"])
        let actions = pool.closed(c1, at: 6)
        #expect(actions.contains { $0.hasPrefix("resume \(w1): fail") })
        #expect(actions.contains("resume \(w2): connect"))
    }

    @Test func minimumIdleSessionsOpenWithinTheLimit() throws {
        let pool = Subject(maxConnections: 4, minimumIdle: 3, maxConcurrentConnects: 1)
        #expect(pool.machine.reserveMinimumIdleSlot(now: at(0)) != nil)
        #expect(pool.machine.reserveMinimumIdleSlot(now: at(0)) == nil)
        _ = pool.idleConnected("i1", at: 1)
        #expect(pool.machine.reserveMinimumIdleSlot(now: at(1)) != nil)
    }
}
