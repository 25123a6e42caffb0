import ResilientPostgres

/// What happened to one planned operation when the schedule ran.
struct OperationRecord: Sendable {
    /// How an operation ended, as its caller saw it.
    enum Outcome: Sendable {
        /// It returned normally.
        case succeeded
        /// A `verifyingWith:` variant returned `.appliedEarlier`.
        case verifiedApplied
        /// It threw a ``PostgresError``.
        case failed(Failure)
        /// It threw something else.
        case otherError(String)
    }

    /// The parts of a ``PostgresError`` the checker reads.
    struct Failure: Sendable {
        var errorClass: String
        var reason: String
        var mayHaveBeenApplied: Bool
        var attempts: Int
        var sqlState: SQLState?
        var isCancelled: Bool

        init(_ error: PostgresError) {
            self.errorClass = error.errorClass.name
            self.reason = "\(error.reason)"
            self.mayHaveBeenApplied = error.mayHaveBeenApplied
            self.attempts = error.attempts
            self.sqlState = error.sqlState
            self.isCancelled = error.errorClass == .cancelled || error.reason == .cancelled
        }
    }

    var id: Int
    /// Virtual time the operation was started (its budget counts from here).
    var started: Duration?
    var ended: Duration?
    var outcome: Outcome?
    /// Virtual time its task was cancelled, if it was.
    var cancelledAt: Duration?
    /// Whether it started after the client's shutdown returned.
    var startedAfterShutdown = false

    var isLive: Bool { started != nil && ended == nil }
}

extension OperationRecord.Outcome: CustomStringConvertible {
    var description: String {
        switch self {
        case .succeeded: "succeeded"
        case .verifiedApplied: "verified applied earlier"
        case .failed(let failure):
            "failed: \(failure.errorClass), \(failure.reason), \(failure.attempts) attempt(s)"
                + (failure.sqlState.map { ", SQLSTATE \($0)" } ?? "")
                + ", mayHaveBeenApplied \(failure.mayHaveBeenApplied)"
        case .otherError(let text): "threw \(text)"
        }
    }
}
