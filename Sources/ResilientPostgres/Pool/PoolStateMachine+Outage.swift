import PostgresPolicy
import PostgresTransport

extension PoolStateMachine {
    /// The database could not be reached: operations no longer connect themselves but wait, and one prober
    /// reconnects on the backoff schedule.
    ///
    /// However many operations wait, the pool makes one connect attempt per backoff interval, so a recovering server
    /// is not met by a stampede. When it succeeds, the first waiter gets the session and the others may open
    /// sessions in the free slots, as many at once as `maxConcurrentConnects` allows. A server that refuses
    /// sessions for want of slots (53300, too many clients) is in an outage of its own kind, back-pressure: the
    /// prober then waits the retry policy's resource-limit backoff (1 s growing to 30 s by default) instead of the
    /// reconnect backoff, and sessions this pool already holds go to waiting operations as they come back, as
    /// always.
    package struct Outage {
        package enum Prober: Equatable {
            /// Waits for the operations' timer.
            case sleeping(until: Instant)
            /// Its connect is under way.
            case connecting
        }

        package var lastFailure: TransportError
        package var prober: Prober
        /// Whether the prober's last wake found no operation waiting.
        var noOneWaited = false
        /// The backoff the prober follows, and how far along it is.
        var pace: Backoff
        var delays: Backoff.Delays<SplitMix64>.Iterator
        /// Seeds the jitter of each pace the prober follows.
        var seeds: SplitMix64
    }

    /// The shortest wait between two connects of the prober when it hurries for a waiting operation.
    static var minimumProbeGap: Duration { .seconds(1) }

    /// The prober's slowest pace, while it runs only to restore the minimum idle sessions.
    static var heartbeat: Duration { .seconds(5) }

    /// Enters an outage after a transient failure to open a session, the prober's first connect one backoff
    /// later; a permanent failure (authentication, a missing database, TLS configuration) is the operation's to
    /// report, not an outage.
    mutating func beginOutageIfTransient(_ failure: TransportError, now: Instant, _ actions: inout [Action]) {
        guard !isShutDown, FailureFacts(failure, inHotStandby: nil).errorClass.isTransient else { return }
        if outage != nil {
            outage!.lastFailure = failure
            return
        }
        var seeds = options.randomSeed.map { SplitMix64(seed: $0 ^ 0x7072_6F62_6572) } ?? SplitMix64()
        let pace = pace(after: failure)
        let delays = pace.delays(using: SplitMix64(seed: seeds.next())).makeIterator()
        outage = Outage(lastFailure: failure, prober: .connecting, pace: pace, delays: delays, seeds: seeds)
        proberSleeps(now: now)
        updateOperationsTimer(&actions)
    }

    /// The prober's wait is over: it connects if an operation waits (or minimum idle sessions are configured) and
    /// a slot is free, and sleeps again otherwise.
    ///
    /// When no operation is left waiting at two wakes in a row (they all gave up at their deadlines), the outage
    /// ends, unless minimum idle sessions are configured (the prober then goes on at a slow heartbeat): connecting
    /// now would only load a server that is down or full, and the next operation connects itself, within its own
    /// budget, starting a new outage if the database is still unreachable. A single empty wake does not end it: an
    /// operation may be between two attempts.
    mutating func proberWoke(now: Instant, _ actions: inout [Action]) {
        guard let state = outage else { return }
        if waiters.isEmpty, options.minimumIdleConnections == 0 {
            if state.noOneWaited {
                outage = nil
            } else {
                outage!.noOneWaited = true
                proberSleeps(now: now)
            }
            return
        }
        outage!.noOneWaited = waiters.isEmpty
        // Every slot is taken: those sessions will come back (or fail) and free one.
        guard openCount < options.maxConnections else {
            proberSleeps(now: now)
            return
        }
        reserveSlot()
        outage!.prober = .connecting
        actions.append(.probe(deadline: now.advanced(by: options.connectTimeout)))
    }

    /// The prober's connect failed (its slot is freed by the caller): a transient failure sets its next wait,
    /// any other ends the outage and fails every waiting operation with the failure to report.
    mutating func proberFailed(_ error: any Error, now: Instant, _ actions: inout [Action]) {
        guard outage != nil else { return }
        if let failure = error as? TransportError, FailureFacts(failure, inHotStandby: nil).errorClass.isTransient {
            outage!.lastFailure = failure
            proberSleeps(now: now)
            return
        }
        outage = nil
        for waiter in waiters { actions.append(.resume(waiter.id, .fail(error))) }
        waiters.removeAll()
    }

    /// Puts the prober to sleep until its next connect: the backoff for what the last connect met (longer for a
    /// full server than for one that is down), at least the heartbeat when no one waited at the last wake, and no
    /// later than halfway to the earliest waiting operation's deadline (but never less than
    /// ``minimumProbeGap``), so that an operation waiting now gets a connect made on its behalf before its deadline.
    private mutating func proberSleeps(now: Instant) {
        guard var state = outage else { return }
        let pace = pace(after: state.lastFailure)
        if pace != state.pace {
            state.pace = pace
            state.delays = pace.delays(using: SplitMix64(seed: state.seeds.next())).makeIterator()
        }
        // The sequence never ends.
        var delay = state.delays.next()!
        if state.noOneWaited, options.minimumIdleConnections > 0 {
            // Kept only for the minimum idle sessions: a slow heartbeat.
            delay = max(delay, Self.heartbeat)
        }
        if let earliest = waiters.lazy.map(\.deadline).min() {
            delay = min(delay, max(Self.minimumProbeGap, now.duration(to: earliest) / 2))
        }
        state.prober = .sleeping(until: now.advanced(by: delay))
        outage = state
    }

    /// The prober's pace after `failure`: longer waits for a full server than for one that is down.
    private func pace(after failure: TransportError) -> Backoff {
        FailureFacts(failure, inHotStandby: nil).errorClass == .resourceLimit
            ? options.resourceLimitBackoff : options.reconnectBackoff
    }
}
