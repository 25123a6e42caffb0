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
    @TaskLocal static var current: ContinuousClock.Instant?

    /// The deadline as the retry loop keeps it, for an operation that starts.
    ///
    /// Out of line, so that the clock's own instant stays out of the async function that asks.
    @inline(never)
    static var offset: OffsetInstant? { current.map(OffsetInstant.init) }
}
