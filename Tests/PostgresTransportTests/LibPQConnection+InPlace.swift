import PostgresPolicy
import PostgresTransport

extension LibPQConnection {
    /// Runs a statement as the client runs one: started in the caller's job (`startInPlace`), on the connection's
    /// own thread or elsewhere, and waiting for the rest of its answer from there too (`completeWaiting`); through
    /// ``execute(_:parameters:resultFormat:deadline:)`` (or, `prepared`,
    /// ``executePrepared(_:parameters:resultFormat:deadline:)``) when it cannot start there.
    nonisolated func executeInPlace(
        prepared: Bool = false,
        _ sql: String,
        parameters: [Parameter] = [],
        deadline: ContinuousClock.Instant? = nil
    ) async throws -> QueryResult {
        switch try startInPlace(sql, parameters: parameters, resultFormat: .text, prepared: prepared) {
        case .answered(let result):
            return result
        case .waiting(let pending):
            return try await completeWaiting(pending, deadline: deadline.map(OffsetInstant.init))
        case .mustStartOnActor:
            return prepared
                ? try await executePrepared(sql, parameters: parameters, deadline: deadline)
                : try await execute(sql, parameters: parameters, deadline: deadline)
        }
    }
}
