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
        let seed = options.randomSeed.map { $0 ^ 0x7072_6F62_6572 }
        outage = Outage(lastFailure: failure, jitter: seed.map(SplitMix64.init(seed:)) ?? SplitMix64())
        outage?.prober = Task { await self.probe() }
    }

    /// Reconnects on the backoff schedule until a session opens, then lets every waiter go.
    ///
    /// However many operations wait, the pool makes one connect attempt per backoff interval, so a recovering
    /// server is not met by a stampede. The first session goes to the first waiter; the others may then open
    /// sessions in the free slots. An operation waiting when the prober goes to sleep gets a connect made on its
    /// behalf before its deadline. When no operation is left waiting at two wakes in a row (they all gave up at
    /// their deadlines), the prober and the outage end, unless minimum idle sessions are configured (the prober then
    /// goes on at a slow heartbeat); the next operation connects itself.
    private func probe() async {
        while outage != nil, !isShutDown {
            do {
                try await clock.sleep(for: nextProbeDelay())
            } catch {
                return  // cancelled: the pool shut down
            }
            guard let state = outage, !isShutDown else { return }
            if waiters.isEmpty, options.minimumIdleConnections == 0 {
                // No one waits: connecting now would only load a server that is down or full. After a second wake
                // with no one (an operation may be between two attempts), the outage ends with the prober, so the
                // next operation connects itself, within its own budget, and starts a new outage if the database
                // is still unreachable.
                if state.noOneWaited {
                    outage = nil
                    return
                }
                outage?.noOneWaited = true
                continue
            }
            outage?.noOneWaited = waiters.isEmpty
            // Every slot is lent out: those sessions will come back (or fail) and free one.
            guard reserveSlot() else { continue }
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
                noteSlotRefusal(failure)
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

    /// The wait before the prober's next connect: the backoff for what the last connect met (longer for a full
    /// server than for one that is down), at least the heartbeat when no one waited at the last wake, and no later than halfway to
    /// the earliest waiting operation's deadline (but never less than ``minimumProbeGap``).
    private func nextProbeDelay() -> Duration {
        guard var state = outage else { return .zero }
        state.retries += 1
        let backoff = pace(after: state.lastFailure)
        var delay = backoff.delay(forRetry: state.retries, previous: state.previousDelay, using: &state.jitter)
        state.previousDelay = delay
        outage = state
        if state.noOneWaited, options.minimumIdleConnections > 0 {
            // Kept only for the minimum idle sessions: a slow heartbeat.
            delay = max(delay, Self.heartbeat)
        }
        if let earliest = waiters.map(\.deadline).min() {
            delay = min(delay, max(Self.minimumProbeGap, clock.now.duration(to: earliest) / 2))
        }
        return delay
    }

    /// The shortest wait between two connects of the prober when it hurries for a waiting operation.
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
