import CoreMetrics
import PostgresPolicy
import Synchronization

/// The swift-metrics a client reports, made once per client so that the happy path only increments.
///
/// Labels start with the configured prefix (`postgres_client` by default); no label or dimension ever carries a
/// host name, a statement or a value, only classes and reasons:
/// - `<prefix>_attempts_total`: every attempt of every operation;
/// - `<prefix>_retries_total{class}`: attempts that were retried, by the class of their failure;
/// - `<prefix>_give_ups_total{class, reason}`: operations that failed, by class and by why retrying stopped;
/// - `<prefix>_pool_connections`, `<prefix>_pool_idle_connections`, `<prefix>_pool_waiters`: the pool's size;
/// - `<prefix>_pool_acquire_duration`: how long operations waited for a session (timer).
final class ClientMetrics: Sendable {
    let prefix: String
    /// The backend every metric of the client is made with: the one bootstrapped when the client was made.
    private let factory: any MetricsFactory
    /// Whether the metrics record anywhere. With no backend bootstrapped they do not, and an operation then skips
    /// what only they would cost it: a reading of the clock and a conversion for the wait's timer, and the pool's
    /// gauges on every session lent and given back.
    let isRecorded: Bool
    let attempts: Counter
    let connections: Gauge
    let idleConnections: Gauge
    let waiters: Gauge
    let acquireDuration: Timer
    private let retries: Mutex<[ErrorClass: Counter]> = Mutex([:])
    private let giveUps: Mutex<[String: Counter]> = Mutex([:])

    init(prefix: String, factory: any MetricsFactory = MetricsSystem.factory) {
        self.prefix = prefix
        self.factory = factory
        isRecorded = !(factory is NOOPMetricsHandler)
        attempts = Counter(label: "\(prefix)_attempts_total", factory: factory)
        connections = Gauge(label: "\(prefix)_pool_connections", factory: factory)
        idleConnections = Gauge(label: "\(prefix)_pool_idle_connections", factory: factory)
        waiters = Gauge(label: "\(prefix)_pool_waiters", factory: factory)
        acquireDuration = Timer(label: "\(prefix)_pool_acquire_duration", factory: factory)
    }

    func recordRetry(_ errorClass: ErrorClass) {
        let counter = retries.withLock { counters in
            if let counter = counters[errorClass] { return counter }
            let counter = Counter(
                label: "\(prefix)_retries_total", dimensions: [("class", errorClass.name)], factory: factory
            )
            counters[errorClass] = counter
            return counter
        }
        counter.increment()
    }

    func recordGiveUp(_ errorClass: ErrorClass, reason: RetryDecision.Reason) {
        let key = "\(errorClass.name)/\(reason)"
        let counter = giveUps.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(
                label: "\(prefix)_give_ups_total",
                dimensions: [("class", errorClass.name), ("reason", "\(reason)")],
                factory: factory
            )
            counters[key] = counter
            return counter
        }
        counter.increment()
    }

    func recordAcquire(_ duration: Duration) {
        acquireDuration.recordNanoseconds(duration.nanoseconds)
    }

    func recordPool(open: Int, idle: Int, waiting: Int) {
        connections.record(open)
        idleConnections.record(idle)
        waiters.record(waiting)
    }
}

extension Duration {
    /// The duration in whole nanoseconds, saturating.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return seconds < 0 ? .min : .max }
        return scaled.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}
