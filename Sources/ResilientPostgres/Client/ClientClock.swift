import PostgresPolicy
import PostgresTransport

/// The time source of a client: what it reads as now, and how it waits.
///
/// Every wait a client makes (a backoff, a pool wait bounded by a deadline, the prober's pause between connects)
/// goes through one clock, and so does every reading of the time that decides something (a budget, an idle or
/// lifetime limit). Production uses `ContinuousClock`; tests use a manual clock that only moves when told, so that
/// a 90-second outage takes no real time at all.
package protocol ClientClock: Sendable {
    /// The current instant.
    var now: ContinuousClock.Instant { get }
    /// The current instant, as nanoseconds from the continuous clock's epoch (see `OffsetInstant+ContinuousClock.swift`
    /// in the transport): what the retry loop and the pool read. By default ``now``, converted.
    var offsetNow: OffsetInstant { get }
    /// Waits until `deadline`, or throws `CancellationError` at once when the task is cancelled.
    func sleep(until deadline: ContinuousClock.Instant, tolerance: Duration?) async throws
    /// Waits until `deadline` for the pool's housekeeping (closing sessions idle or open for too long), or throws
    /// `CancellationError` at once when the task is cancelled.
    ///
    /// A clock for tests keeps these apart from the waits of operations, which a test steps through one by one;
    /// by default it is ``sleep(until:tolerance:)``.
    func sleepForHousekeeping(until deadline: ContinuousClock.Instant) async throws
}

extension ContinuousClock: ClientClock {
    /// Read as nanoseconds straight from the system's clock.
    package var offsetNow: OffsetInstant { .now }
}

extension ClientClock {
    package var offsetNow: OffsetInstant { OffsetInstant(now) }

    package func sleepForHousekeeping(until deadline: ContinuousClock.Instant) async throws {
        try await sleep(until: deadline, tolerance: .seconds(1))
    }
}

extension ClientClock {
    /// Waits for `duration` from now.
    func sleep(for duration: Duration) async throws {
        try await sleep(until: now.advanced(by: duration), tolerance: nil)
    }
}
