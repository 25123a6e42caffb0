public import Hummingbird
public import ResilientPostgres

/// How the service answers a request whose database work failed after whatever retries the client found safe.
///
/// Decided from what ``PostgresError`` says about the failure, never from its text, which stays out of the answer.
public enum FailureAnswer: Sendable, Hashable {
    /// 503 with `Retry-After`: a write may or may not have been applied. Repeating the request with the same key is
    /// safe, because the endpoint is idempotent: it records the order once, or finds it recorded.
    case repeatWithSameKey
    /// 503 with `Retry-After`: the database was unavailable, too slow or too busy for the whole retry budget.
    case unavailable
    /// 500: a failure retrying cannot fix (a missing table, a bug in a statement, a refused login).
    case internalError

    /// The answer to `error`.
    public init(_ error: PostgresError) {
        self.init(errorClass: error.errorClass, reason: error.reason, mayHaveBeenApplied: error.mayHaveBeenApplied)
    }

    /// The answer to a failure of class `errorClass` that the client stopped retrying for `reason`.
    public init(errorClass: ErrorClass, reason: PostgresError.Reason, mayHaveBeenApplied: Bool) {
        if mayHaveBeenApplied || reason == .outcomeUnknown || errorClass == .outcomeUnknown {
            self = .repeatWithSameKey
        } else if errorClass.isTransient || Self.reasonsToTryLater.contains(reason) || errorClass == .deadline {
            self = .unavailable
        } else {
            self = .internalError
        }
    }

    /// Reasons to give up that say nothing is wrong with the request itself: it may well succeed later.
    private static let reasonsToTryLater: Set<PostgresError.Reason> = [
        .budgetExhausted, .attemptLimitReached, .throttled, .timedOut, .cancelled,
    ]

    /// The HTTP status of the answer.
    public var status: HTTPResponse.Status {
        switch self {
        case .repeatWithSameKey, .unavailable: .serviceUnavailable
        case .internalError: .internalServerError
        }
    }

    /// The answer as an error the router turns into a response, telling clients to wait `retryAfter` (rounded up to
    /// whole seconds) before trying again.
    public func httpError(retryAfter: Duration) -> HTTPError {
        let seconds = retryAfter.components.seconds + (retryAfter.components.attoseconds > 0 ? 1 : 0)
        switch self {
        case .repeatWithSameKey:
            return HTTPError(
                status,
                headers: [.retryAfter: "\(seconds)"],
                message: "The request may or may not have taken effect. Repeat it with the same order key: "
                    + "an order is recorded once, however often it is sent."
            )
        case .unavailable:
            return HTTPError(
                status,
                headers: [.retryAfter: "\(seconds)"],
                message: "The database is unavailable. Try again later."
            )
        case .internalError:
            return HTTPError(status, message: "Internal error.")
        }
    }
}
