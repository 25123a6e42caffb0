import PostgresTransport
import ResilientPostgres

/// Row streams and COPY on a fault-injecting session: the statement meets its planned fault when it is sent, as any
/// statement does; otherwise it runs for real, and its rows and data flow from the real session.
extension FaultInjectingSession {
    func startRows(
        _ sql: String,
        parameters: [Parameter],
        resultFormat: ValueFormat,
        deadline: ContinuousClock.Instant?
    ) async throws {
        try await start(sql, parameters: parameters, deadline: deadline) {
            try await self.real.startRows(sql, parameters: parameters, resultFormat: resultFormat, deadline: deadline)
        }
    }

    func nextRows(maximumCount: Int, deadline: ContinuousClock.Instant?) async throws -> [QueryResult]? {
        try await real.nextRows(maximumCount: maximumCount, deadline: deadline)
    }

    func startCopyIn(_ sql: String, parameters: [Parameter], deadline: ContinuousClock.Instant?) async throws {
        try await start(sql, parameters: parameters, deadline: deadline) {
            try await self.real.startCopyIn(sql, parameters: parameters, deadline: deadline)
        }
    }

    func putCopyData(_ chunk: [UInt8], deadline: ContinuousClock.Instant?) async throws {
        try await real.putCopyData(chunk, deadline: deadline)
    }

    func endCopyIn(deadline: ContinuousClock.Instant?) async throws -> QueryResult {
        try await real.endCopyIn(deadline: deadline)
    }

    func startCopyOut(_ sql: String, parameters: [Parameter], deadline: ContinuousClock.Instant?) async throws {
        try await start(sql, parameters: parameters, deadline: deadline) {
            try await self.real.startCopyOut(sql, parameters: parameters, deadline: deadline)
        }
    }

    func nextCopyData(deadline: ContinuousClock.Instant?) async throws -> [UInt8]? {
        try await real.nextCopyData(deadline: deadline)
    }

    func stopStreaming() async {
        await real.stopStreaming()
    }

    /// Sends a streamed statement through the plan, as ``execute(_:parameters:resultFormat:deadline:)`` sends any:
    /// `startForReal` runs unless a fault stops it.
    private func start(
        _ sql: String,
        parameters: [Parameter],
        deadline: ContinuousClock.Instant?,
        startForReal: @escaping () async throws -> Void
    ) async throws {
        _ = try await run(sql, parameters: parameters, resultFormat: .binary, deadline: deadline) {
            try await startForReal()
            // A streamed statement has no result of its own; its rows or data follow.
            return QueryResult.make(columns: [], rows: [], commandTag: "")
        }
    }
}
