import PostgresPolicy

/// The deadline of the operation whose app code runs on the current task.
///
/// Set around each attempt that lends its session to app code (a `transaction` or `withConnection` closure) and
/// around a verification. Read where the statements of that code are sent, so that one still running when the
/// operation's budget ends (a hung peer, a lock that never frees) is cancelled, and its session closed if the
/// server does not answer the cancel, instead of outliving the operation; and when a client call made there starts,
/// so that its budget ends no later. An attempt of a plain statement gets its deadline as a parameter instead,
/// which costs less than a task-local value.
enum OperationDeadline {
    /// The deadline as the retry loop keeps it, an offset of known size: every operation that starts reads it, and a
    /// task-local `ContinuousClock.Instant` would cost that read three times as much, each copy of an instant going
    /// through its type's value witnesses.
    @TaskLocal static var offset: OffsetInstant?
    /// The deadline as the pool and the connection take it.
    static var current: ContinuousClock.Instant? { offset.map(ContinuousClock.Instant.init) }
}
