/// The deadline of the operation whose attempt runs on the current task.
///
/// Set by the retry loop around each attempt, and read where statements are sent, so that a statement still running
/// when the operation's budget ends (a hung peer, a lock that never frees) is cancelled, and its session closed if
/// the server does not answer the cancel, instead of outliving the operation.
enum OperationDeadline {
    @TaskLocal static var current: ContinuousClock.Instant?
}
