import Hummingbird
import OrdersAPI
import ResilientPostgres
import Testing

/// How database failures become HTTP answers, decided from what the error says, without a server.
struct FailureAnswerTests {
    /// A failure as ``PostgresError`` describes it, and the answer it should get.
    struct Case: Sendable, CustomTestStringConvertible {
        let errorClass: ErrorClass
        let reason: PostgresError.Reason
        let mayHaveBeenApplied: Bool
        let expected: FailureAnswer

        init(_ errorClass: ErrorClass, _ reason: PostgresError.Reason, applied: Bool = false, _ expected: FailureAnswer) {
            self.errorClass = errorClass
            self.reason = reason
            self.mayHaveBeenApplied = applied
            self.expected = expected
        }

        var testDescription: String { "\(errorClass.name), \(reason), applied: \(mayHaveBeenApplied)" }
    }

    @Test(arguments: [
        Case(.serverWentAway, .budgetExhausted, applied: true, .repeatWithSameKey),
        Case(.outcomeUnknown, .outcomeUnknown, applied: true, .repeatWithSameKey),
        Case(.outcomeUnknown, .budgetExhausted, .repeatWithSameKey),
        Case(.unreachable, .budgetExhausted, .unavailable),
        Case(.serverUnavailable, .budgetExhausted, .unavailable),
        Case(.resourceLimit, .throttled, .unavailable),
        Case(.transactionConflict, .attemptLimitReached, .unavailable),
        Case(.deadline, .timedOut, .unavailable),
        Case(.cancelled, .cancelled, .unavailable),
        Case(.staleStatement, .permanent, .unavailable),
        Case(.permanent, .permanent, .internalError),
    ])
    func answer(_ failure: Case) {
        let answer = FailureAnswer(
            errorClass: failure.errorClass, reason: failure.reason, mayHaveBeenApplied: failure.mayHaveBeenApplied
        )
        #expect(answer == failure.expected)
    }

    @Test func unavailableAnswersCarryRetryAfterInWholeSeconds() {
        for answer in [FailureAnswer.repeatWithSameKey, .unavailable] {
            let error = answer.httpError(retryAfter: .milliseconds(1500))
            #expect(error.status == .serviceUnavailable)
            #expect(error.headers[.retryAfter] == "2")
        }
        #expect(FailureAnswer.unavailable.httpError(retryAfter: .seconds(5)).headers[.retryAfter] == "5")
    }

    @Test func anUnknownOutcomeTellsTheClientToRepeatWithTheSameKey() {
        let error = FailureAnswer.repeatWithSameKey.httpError(retryAfter: .seconds(5))
        #expect(error.body?.contains("same order key") == true)
    }

    @Test func anInternalErrorSaysNothingMore() {
        let error = FailureAnswer.internalError.httpError(retryAfter: .seconds(5))
        #expect(error.status == .internalServerError)
        #expect(error.headers[.retryAfter] == nil)
        #expect(error.body == "Internal error.")
    }
}
