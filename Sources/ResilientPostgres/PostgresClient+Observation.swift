extension PostgresClient {
    /// What the pool is waiting on now: how many operations wait for a session (a free slot, a returned session, or
    /// the prober), and whether the prober is reconnecting after a failed connect.
    ///
    /// For tools that drive a client on a virtual clock and must tell when everything is blocked, so that only the
    /// passing of time can move it on: each waiting operation has a timeout task sleeping until its deadline, and a
    /// probing pool has one prober that is either sleeping or connecting.
    package var poolWaits: (waitingOperations: Int, isProbing: Bool) {
        get async { await (pool.waiterCount, pool.isInOutage) }
    }
}
