import Hummingbird
import Logging
import ResilientPostgres

/// Turns a ``PostgresError`` thrown by a route into the answer ``FailureAnswer`` gives, and logs it.
///
/// The log line carries the error's redacted description (class, reason, attempts, SQLSTATE), never the server's
/// message text; the response carries neither.
struct DatabaseFailureMiddleware<Context: RequestContext>: RouterMiddleware {
    /// How long clients are told to wait before trying again.
    let retryAfter: Duration

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as PostgresError {
            let answer = FailureAnswer(error)
            context.logger.log(
                level: answer == .internalError ? .error : .warning,
                "database failure",
                metadata: [
                    "http.method": "\(request.method)",
                    "http.path": "\(request.uri.path)",
                    "http.status": "\(answer.status.code)",
                    "postgres.error": "\(error)",
                ]
            )
            throw answer.httpError(retryAfter: retryAfter)
        }
    }
}
