import PostgresPolicy
import PostgresTransport

extension ConnectionPool {
    /// Enters an outage after a transient failure to open a session, starting the one prober; a permanent failure
    /// (authentication, a missing database, TLS configuration) is the operation's to report, not an outage.
    ///
    /// A server that refuses sessions for want of slots (53300, too many clients) is in an outage of its own kind:
    /// back-pressure. The prober then waits the retry policy's resource-limit backoff (1 s growing to 30 s by
    /// default) instead of the reconnect backoff, and sessions this pool already holds go to waiting operations as
    /// they come back, as always.
    func beginOutageIfTransient(_ failure: TransportError) {
        guard !isShutDown, FailureFacts(failure, inHotStandby: nil).errorClass.isTransient else { return }
        if outage != nil {
            outage?.lastFailure = failure
            return
        }
        outage = Outage(lastFailure: failure, prober: nil)
        outage?.prober = Task { await self.probe() }
    }

    /// Reconnects on the backoff schedule until a session opens, then lets every waiter go.
    ///
    /// However many operations wait, the pool makes one connect attempt per backoff interval, so a recovering
    /// server is not met by a stampede. The first session goes to the first waiter; the others may then open
    /// sessions in the free slots. When no operation is left waiting (they all gave up at their deadlines), the
    /// prober and the outage end, unless minimum idle sessions are configured (the prober then goes on at a slow
    /// heartbeat); the next operation connects itself.
    private func probe() async {
        var generator = options.randomSeed.map { SplitMix64(seed: $0 ^ 0x7072_6F62_6572) } ?? SplitMix64()
        var retry = 0
        var previous: Duration?
        // Whether the last wake found no one waiting (the prober runs on only for the minimum idle sessions).
        var noOneWaited = false
        while outage != nil, !isShutDown {
            retry += 1
            let backoff = outage.map { pace(after: $0.lastFailure) } ?? options.reconnectBackoff
            var delay = backoff.delay(forRetry: retry, previous: previous, using: &generator)
            previous = delay
            // Kept only for the minimum idle sessions: a slow heartbeat.
            if noOneWaited { delay = max(delay, Self.heartbeat) }
            // Every waiting operation gets a connect made on its behalf before its deadline (but connects stay at
            // least a minimum gap apart).
            if let earliest = waiters.map(\.deadline).min() {
                delay = min(delay, max(Self.minimumProbeGap, clock.now.duration(to: earliest) / 2))
            }
            let clock = self.clock
            let napLength = delay
            let nap = Task { _ = try? await clock.sleep(for: napLength) }
            outage?.nap = nap
            outage?.nextProbe = clock.now.advanced(by: delay)
            await nap.value
            guard outage != nil, !isShutDown else { return }
            noOneWaited = waiters.isEmpty
            guard !noOneWaited || options.minimumIdleConnections > 0 else {
                // No one waits: connecting now would only load a server that is down or full. The outage ends
                // with the prober, so the next operation connects itself, within its own budget, and starts a new
                // outage if the database is still unreachable.
                outage = nil
                return
            }
            // Every slot is lent out: those sessions will come back (or fail) and free one.
            guard reserveSlot() else { continue }
            outage?.lastProbe = clock.now
            do {
                let lease = try await openForProbe()
                guard !isShutDown else {
                    await discard(lease)
                    return
                }
                outage = nil
                hand(lease, idleSince: clock.now)
                handOutFreeSlots()
                return
            } catch let failure as TransportError {
                slotFreed()
                guard FailureFacts(failure, inHotStandby: nil).errorClass.isTransient else {
                    // Retrying cannot fix it: every waiting operation gets the failure to report.
                    outage = nil
                    failWaiters(with: failure)
                    return
                }
                outage?.lastFailure = failure
            } catch {
                slotFreed()
                outage = nil
                failWaiters(with: error)
                return
            }
        }
    }

    /// Makes the prober's next connect earlier when an operation that just began to wait would otherwise reach its
    /// deadline first: it then gets a connect made on its behalf halfway to its deadline, but never sooner than
    /// ``minimumProbeGap`` after the last, so that operations arriving one by one do not each bring a connect.
    func hastenProbe(for deadline: ContinuousClock.Instant) {
        guard let outage, let nextProbe = outage.nextProbe else { return }
        let now = clock.now
        let halfway = now.advanced(by: now.duration(to: deadline) / 2)
        guard nextProbe > halfway else { return }
        if let lastProbe = outage.lastProbe, lastProbe.duration(to: now) < Self.minimumProbeGap { return }
        outage.nap?.cancel()
    }

    /// The shortest time between two connects of the prober made early for a waiting operation.
    static let minimumProbeGap = Duration.seconds(1)

    /// The prober's slowest pace, while it runs only to restore the minimum idle sessions.
    static let heartbeat = Duration.seconds(5)

    /// The prober's pace after `failure`: longer waits for a full server than for one that is down.
    private func pace(after failure: TransportError) -> Backoff {
        FailureFacts(failure, inHotStandby: nil).errorClass == .resourceLimit
            ? options.resourceLimitBackoff : options.reconnectBackoff
    }

    private func failWaiters(with error: any Error) {
        while !waiters.isEmpty {
            resumeFirstWaiter(with: .failure(error))
        }
        reportSize()
    }
}
