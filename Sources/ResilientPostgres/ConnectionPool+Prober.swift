import PostgresPolicy
import PostgresTransport

extension ConnectionPool {
    /// Enters an outage after a transient failure to open a session, starting the one prober; a permanent failure
    /// (authentication, a missing database, TLS configuration) is the operation's to report, not an outage.
    func beginOutageIfTransient(_ failure: TransportError) {
        guard !isShutDown, FailureFacts(failure, inHotStandby: nil).errorClass.isTransient else { return }
        if outage != nil {
            outage?.lastFailure = failure
            return
        }
        outage = Outage(lastFailure: failure, prober: nil)
        outage?.prober = Task { await self.probe() }
    }

    /// Reconnects on the reconnect backoff schedule until a session opens, then lets every waiter go.
    ///
    /// However many operations wait, the pool makes one connect attempt per backoff interval, so a recovering
    /// server is not met by a stampede. The first session goes to the first waiter; the others may then open
    /// sessions in the free slots.
    private func probe() async {
        var generator = options.randomSeed.map { SplitMix64(seed: $0 ^ 0x7072_6F62_6572) } ?? SplitMix64()
        var retry = 0
        var previous: Duration?
        while outage != nil, !isShutDown {
            retry += 1
            let delay = options.reconnectBackoff.delay(forRetry: retry, previous: previous, using: &generator)
            previous = delay
            do {
                try await clock.sleep(for: delay)
            } catch {
                return  // cancelled: the pool shut down
            }
            guard outage != nil, !isShutDown else { return }
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

    private func failWaiters(with error: any Error) {
        while !waiters.isEmpty {
            resumeFirstWaiter(with: .failure(error))
        }
        reportSize()
    }
}
