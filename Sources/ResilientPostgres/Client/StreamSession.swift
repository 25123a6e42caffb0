import PostgresPolicy
import Synchronization

/// The pooled session a row stream or a COPY TO STDOUT stream reads from, held from its first rows to its end.
///
/// The pool counts the session as lent for as long as this holds it. It is given back when the stream ends, when
/// it fails, or, if the consumer stops early (breaks out of its loop, is cancelled, drops the sequence), when the
/// last reference goes (the stream's one iterator, once it has been made): the statement is then stopped on the
/// server (a cancel request, and what is left read and dropped, or the session closed if the server does not
/// answer), and the session returned clean, in a clean-up that ``PostgresClient/shutdown()`` ends and waits for.
final class StreamSession: Sendable {
    let connection: any DatabaseConnection
    /// When the operation that opened the stream started.
    let start: OffsetInstant
    /// The attempts that failed before the stream opened.
    let earlierAttempts: [RetryAttempt]
    private let pool: ConnectionPool
    private let cleanups: StreamCleanups
    private let lease: Mutex<ConnectionPool.Lease?>

    init(
        lease: ConnectionPool.Lease,
        pool: ConnectionPool,
        cleanups: StreamCleanups,
        startedAt start: OffsetInstant,
        earlierAttempts: [RetryAttempt]
    ) {
        self.connection = lease.connection
        self.start = start
        self.earlierAttempts = earlierAttempts
        self.pool = pool
        self.cleanups = cleanups
        self.lease = Mutex(lease)
    }

    deinit {
        guard let lease = lease.withLock({ $0.take() }) else { return }
        // The consumer stopped early: stop the statement, then give the session back, in a task the client's
        // shutdown ends and waits for.
        cleanups.stop(lease, pool: pool)
    }

    /// Gives the session back once the stream has ended, cleanly or not; later calls do nothing.
    func end(reuse: Bool) async {
        guard let lease = lease.withLock({ $0.take() }) else { return }
        await pool.release(lease, reuse: reuse)
    }
}
