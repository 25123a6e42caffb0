import PostgresTransport

/// Sessions that cannot stream (test doubles that do not script it, the simulator's model) refuse row streams and
/// COPY before sending anything.
extension DatabaseConnection {
    package func startRows(
        _ sql: String,
        parameters: [Parameter],
        resultFormat: ValueFormat,
        deadline: ContinuousClock.Instant?
    ) async throws {
        throw streamingUnsupported()
    }

    package func nextRows(maximumCount: Int, deadline: ContinuousClock.Instant?) async throws -> [QueryResult]? {
        nil
    }

    package func startCopyIn(_ sql: String, parameters: [Parameter], deadline: ContinuousClock.Instant?) async throws {
        throw streamingUnsupported()
    }

    package func putCopyData(_ chunk: [UInt8], deadline: ContinuousClock.Instant?) async throws {
        throw streamingUnsupported()
    }

    package func endCopyIn(deadline: ContinuousClock.Instant?) async throws -> QueryResult {
        throw streamingUnsupported()
    }

    package func startCopyOut(_ sql: String, parameters: [Parameter], deadline: ContinuousClock.Instant?) async throws {
        throw streamingUnsupported()
    }

    package func nextCopyData(deadline: ContinuousClock.Instant?) async throws -> [UInt8]? {
        nil
    }

    package func stopStreaming() async {}

    private func streamingUnsupported() -> TransportError {
        TransportError(
            code: .unsupportedResult, message: "this session does not stream rows or COPY data",
            host: host, port: port, phase: .notSent, isConnectionUsable: true
        )
    }
}
