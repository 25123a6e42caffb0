/// Marks the operations the client runs for itself (the check of a commit marker, ending a lost attempt's server
/// process, preparing and pruning the marker table), so that they reach neither the app's
/// ``PostgresClient/Configuration/onAttempt`` nor the operation metrics: those describe the app's operations.
enum InternalOperation {
    /// Whether the task runs one of the client's own operations.
    @TaskLocal static var isRunning = false
}
