extension PostgresClient {
    /// The number of operations waiting for a pooled session (a free slot, a returned session, or the prober).
    ///
    /// For tools that drive a client on a virtual clock and must tell when every operation is blocked, so that
    /// only the passing of time can move them on.
    package var waitingOperationCount: Int {
        get async { await pool.waiterCount }
    }
}
