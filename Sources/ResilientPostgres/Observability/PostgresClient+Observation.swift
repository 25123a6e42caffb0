extension PostgresClient {
    /// What the pool is waiting on now: how many operations wait for a session (a free slot, a returned session, or
    /// the prober), which tasks of theirs have parked (each by the hash of its `UnsafeCurrentTask`), how many of the
    /// pool's own tasks are then asleep on the clock (its operations' timer, set while an operation waits or the
    /// prober pauses, and the prober's connect while one is under way), and whether one of its tasks is at work
    /// (housekeeping that went off, or a close).
    ///
    /// For tools that drive a client on a virtual clock and must tell when everything is blocked, so that only the
    /// passing of time can move it on: a waiting operation sleeps on no clock of its own, the timer ends its wait.
    package var poolWaits: (waitingOperations: Int, parkedOperationTasks: Set<Int>, parkedTasks: Int, isWorking: Bool) {
        pool.waits
    }
}
