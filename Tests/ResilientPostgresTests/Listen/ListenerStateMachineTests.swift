import PostgresPolicy
import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

/// A listener's decisions, driven without awaiting: what it reports and how long it waits after each step.
@Suite("Listener state machine", .capturingLogs)
struct ListenerStateMachineTests {
    typealias Identity = ListenerStateMachine.SessionIdentity

    let start = ContinuousClock.now
    let primary = Identity(host: "a", port: 5432, serverStartedAt: "t1")

    func at(_ seconds: Double) -> ContinuousClock.Instant {
        start.advanced(by: .milliseconds(Int(seconds * 1000)))
    }

    static func lost(_ sqlState: SQLState? = nil) -> TransportError {
        var error = TransportError(
            code: .connectionLost, message: "server closed the connection unexpectedly", host: "a", port: 5432,
            phase: .notSent, isConnectionUsable: false
        )
        error.sqlState = sqlState
        return error
    }

    @Test func theFirstListenIsReportedAsListeningAndLaterOnesAsGapsFromTheLoss() {
        var machine = ListenerStateMachine(backoff: .constant(.seconds(1)))
        var generator = SplitMix64(seed: 1)
        guard case .listening = machine.listened(on: primary, now: at(0)) else {
            Issue.record("expected listening first")
            return
        }
        let retry = machine.failed(Self.lost(), now: at(10), using: &generator)
        #expect(retry.delay <= .seconds(1))  // the first reconnect after a loss comes within the first delay
        guard case .gap(let gap) = machine.listened(on: primary, now: at(10.5)) else {
            Issue.record("expected a gap after a loss")
            return
        }
        #expect(gap.reason == .network)
        #expect(gap.noticedAt == at(10))
        #expect(gap.resumedAt == at(10.5))
        #expect(gap.failure?.code == .connectionLost)
    }

    @Test func failedAttemptsFollowTheBackoffAndReportSinceWhenTheListenerHasBeenTrying() {
        var machine = ListenerStateMachine(backoff: .exponential(base: .seconds(1), cap: .seconds(4), jitter: .none))
        var generator = SplitMix64(seed: 1)
        // Before it ever listened, every failure waits.
        let first = machine.failed(Self.lost(), now: at(0), using: &generator)
        #expect(first.delay == .seconds(1))
        _ = machine.listened(on: primary, now: at(1))
        // After a loss: within 1 s, then 1, 2, 4, 4 s, with no budget to stop at.
        let delays = (0..<5).map { step in machine.failed(Self.lost(), now: at(10 + Double(step)), using: &generator) }
        #expect(delays[0].delay <= .seconds(1))
        #expect(delays.dropFirst().map(\.delay) == [.seconds(1), .seconds(2), .seconds(4), .seconds(4)])
        guard case .reconnecting(let status) = delays.last?.event else {
            Issue.record("expected a retry event")
            return
        }
        #expect(status.failedAttempts == 5)
        #expect(status.since == at(10))
        #expect(status.nextAttemptIn == .seconds(4))
        // The gap starts at the first loss, not the last failure; a session up for the cap starts the backoff again.
        guard case .gap(let gap) = machine.listened(on: primary, now: at(20)) else {
            Issue.record("expected a gap")
            return
        }
        #expect(gap.noticedAt == at(10))
        #expect(machine.failed(Self.lost(), now: at(30), using: &generator).delay <= .seconds(1))
    }

    @Test func aSessionLostRightAfterListeningBacksOff() {
        var machine = ListenerStateMachine(backoff: .exponential(base: .seconds(1), cap: .seconds(30), jitter: .none))
        var generator = SplitMix64(seed: 1)
        _ = machine.listened(on: primary, now: at(0))
        var delays: [Duration] = []
        for cycle in 0..<5 {
            let t = Double(cycle) * 0.05
            delays.append(machine.failed(Self.lost(.adminShutdown), now: at(t + 0.01), using: &generator).delay)
            _ = machine.listened(on: primary, now: at(t + 0.02))
        }
        // Each session lived 10 ms: the backoff went on growing, as if the listener never listened.
        #expect(delays.dropFirst() == [.seconds(1), .seconds(2), .seconds(4), .seconds(8)])
    }

    @Test func theFirstRetryAfterALossWaitsAJitteredMomentAndAStableSessionStartsTheBackoffAgain() {
        let backoff = Backoff.exponential(base: .seconds(1), cap: .seconds(8), jitter: .none)
        var firstDelays: Set<Duration> = []
        for seed in 1...20 {
            var machine = ListenerStateMachine(backoff: backoff)
            var generator = SplitMix64(seed: UInt64(seed))
            _ = machine.listened(on: primary, now: at(0))
            let first = machine.failed(Self.lost(), now: at(100), using: &generator).delay
            #expect(first >= .zero && first <= .seconds(1))
            firstDelays.insert(first)
            #expect(machine.failed(Self.lost(), now: at(101), using: &generator).delay == .seconds(1))
            // Up for the backoff's cap: the next loss starts the backoff again.
            _ = machine.listened(on: primary, now: at(102))
            let again = machine.failed(Self.lost(), now: at(110), using: &generator).delay
            #expect(again <= .seconds(1))
        }
        // A fleet that lost its sessions together does not come back together.
        #expect(firstDelays.count > 10)
    }

    @Test func theReasonComesFromWhereTheNextSessionListensThenFromTheError() {
        let restarted = Identity(host: "a", port: 5432, serverStartedAt: "t2")
        let standby = Identity(host: "b", port: 5432, serverStartedAt: "t3")
        func reason(_ error: TransportError?, _ after: Identity) -> NotificationGap.Reason {
            ListenerStateMachine.reason(failure: error, before: primary, after: after)
        }
        #expect(reason(Self.lost(.adminShutdown), standby) == .failover)
        #expect(reason(Self.lost(), Identity(host: "a", port: 5433, serverStartedAt: "t1")) == .failover)
        // An immediate shutdown sends no error, only a WARNING notice: the start time tells.
        #expect(reason(Self.lost(), restarted) == .serverRestart)
        #expect(reason(Self.lost(.adminShutdown), restarted) == .serverRestart)
        #expect(reason(Self.lost(.adminShutdown), primary) == .sessionTerminated)
        #expect(reason(Self.lost(.idleSessionTimeout), primary) == .idleTimeout)
        #expect(reason(Self.lost(.cannotConnectNow), primary) == .serverRestart)
        #expect(reason(Self.lost(.crashShutdown), primary) == .serverRestart)
        #expect(reason(Self.lost(.queryCanceled), primary) == .network)  // a liveness check left unanswered
        #expect(reason(Self.lost(), primary) == .network)
        #expect(reason(nil, primary) == .network)
    }
}
