extension LibPQConnection {
    /// What ``resetSessionState(deallocatingPreparedStatements:deadline:)`` sends, in one round trip.
    ///
    /// `DISCARD ALL` without what would break a pooler or the statement cache: `DEALLOCATE ALL` only on request
    /// (it would drop this connection's cached statements, and behind PgBouncer 1.21+ with prepared statements, the
    /// pooler's), and no `DISCARD PLANS`, which only costs the next statements a new plan. Every part works for a
    /// role without special privileges, and behind PgBouncer in transaction mode (where the server session the
    /// reset reaches is whichever the pooler picks, and resetting it is as harmless).
    static let resetScript = """
        SET SESSION AUTHORIZATION DEFAULT; RESET ALL; CLOSE ALL; UNLISTEN *; \
        SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES
        """

    /// Returns the session to the state of a new one: settings (`RESET ALL`), role and session authorization,
    /// open cursors, `LISTEN` registrations, session advisory locks, temporary tables and sequence caches; with
    /// `deallocatingPreparedStatements`, every named prepared statement (`DEALLOCATE ALL`), including this
    /// connection's own cached ones, which are then prepared again when next used.
    ///
    /// Settings given in the connection string (`options=-c ...`) are the session's defaults and survive. It must
    /// be called outside a transaction block (the server refuses `DISCARD TEMP` inside one).
    ///
    /// - Throws: ``TransportError`` when the reset fails; the session's state is then unknown, and it should be
    ///   closed.
    public func resetSessionState(
        deallocatingPreparedStatements: Bool = false,
        deadline: ContinuousClock.Instant? = nil
    ) async throws {
        if deallocatingPreparedStatements {
            _ = try await executeUnsafeScript(Self.resetScript + "; DEALLOCATE ALL", deadline: deadline)
            preparedStatements.removeAll()
        } else {
            _ = try await executeUnsafeScript(Self.resetScript, deadline: deadline)
        }
    }
}
