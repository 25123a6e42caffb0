/// A promise of the client that the simulator checks after every schedule.
package enum Invariant: String, Sendable, CaseIterable, Comparable {
    /// A write not declared idempotent is applied at most once.
    case appliedOnce = "applied-at-most-once"
    /// An effect present in the database was reported as success, as a failure that may have been applied, or as
    /// verified applied: never as a failure that was not applied.
    case reportedHonestly = "no-false-not-applied"
    /// An operation reported successful has all its effects in the database.
    case acknowledgedDurable = "acknowledged-writes-durable"
    /// Every operation ends within its budget (plus the margin).
    case withinBudget = "ends-within-budget"
    /// A cancelled operation ends promptly.
    case cancelledPromptly = "cancel-ends-promptly"
    /// Every operation ends at all.
    case ends = "every-operation-ends"
    /// No session state (setting, advisory lock, open transaction) carries from one lease to another.
    case noStateAcrossLeases = "no-session-state-across-leases"
    /// One session runs one operation's statements at a time.
    case exclusiveSessions = "one-operation-per-session"
    /// An operation that was not cancelled does not fail as cancelled.
    case noCrossCancel = "no-cancel-across-operations"
    /// Sessions open at once never exceed `maxConnections`.
    case poolBounded = "pool-within-max-connections"
    /// Operations' connects under way at once never exceed `maxConcurrentConnects`, nor all connects that plus the
    /// prober's one.
    case connectsBounded = "connects-within-limit"
    /// Every session is closed once the client is shut down and its operations ended.
    case noLeaks = "no-session-leaks"
    /// Nothing connects or runs once the client is shut down (and operations started after it fail).
    case nothingAfterShutdown = "nothing-after-shutdown"
    /// While the database is down, connects per second stay within what the reconnect backoff implies.
    case connectRate = "connect-rate-follows-backoff"
    /// A statement that fails the same way every time is not sent again and again.
    case noFutileRetries = "no-futile-retries"
    /// An operation that met no fault, while the primary was reachable, succeeds.
    case followsPrimary = "succeeds-when-primary-reachable"
    /// A write with a verified commit (`OperationOptions.verifiedCommit`) whose answer was lost is resolved, applied
    /// or run again, unless a fault or an outage kept its check from the primary until the budget ran out.
    case verifiedCommitResolved = "verified-commit-resolved"
    /// An operation throws only `PostgresError`.
    case errorsAreReported = "errors-are-postgres-errors"

    package static func < (lhs: Invariant, rhs: Invariant) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
