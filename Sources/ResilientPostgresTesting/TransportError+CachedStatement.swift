import PostgresTransport

extension TransportError {
    /// Runs `statement` as a session's cached named statement: a failure it throws says so, as a real session's
    /// does (a 26000 or stale cached plan is then the cache's, prepared again and retried).
    static func asCachedStatement(_ statement: () async throws -> QueryResult) async throws -> QueryResult {
        do {
            return try await statement()
        } catch var error as TransportError {
            error.isCachedStatement = true
            throw error
        }
    }
}
