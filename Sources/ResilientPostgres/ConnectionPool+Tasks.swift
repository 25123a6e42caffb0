import PostgresTransport

extension ConnectionPool {
    /// The tasks the pool runs on its own: one per timer, and the one running the prober's connect.
    ///
    /// Two timers, not one: operations' deadlines and the prober's pauses sleep on the client's clock with
    /// `sleep(until:tolerance:)`, housekeeping with `sleepForHousekeeping(until:)`, which a test clock keeps apart
    /// from the waits a test steps through one by one (`ManualClock.pendingHousekeeping`), and which the simulator
    /// does not count as a sign that an operation or the prober is parked.
    struct BackgroundTasks {
        struct TimerTask {
            /// The newest setting of the timer seen, set or cancelled: an older order that arrives late is ignored.
            var latest = 0
            var task: Task<Void, Never>?
        }

        var operations = TimerTask()
        var housekeeping = TimerTask()
        var probe: Task<Void, Never>?
        var isStopped = false

        subscript(kind: Machine.Timer.Kind) -> TimerTask {
            get { kind == .operations ? operations : housekeeping }
            set { if kind == .operations { operations = newValue } else { housekeeping = newValue } }
        }
    }

    /// Sets a timer, replacing the earlier setting of its kind: a task sleeps on the clock until its deadline.
    func schedule(_ timer: Machine.Timer) {
        let deadline = clockInstant(timer.deadline)
        let replaced = tasks.withLock { tasks -> Task<Void, Never>? in
            guard !tasks.isStopped, tasks[timer.kind].latest < timer.id else { return nil }
            let replaced = tasks[timer.kind].task
            tasks[timer.kind] = BackgroundTasks.TimerTask(latest: timer.id, task: Task { [weak self, clock] in
                do {
                    switch timer.kind {
                    case .operations: try await clock.sleep(until: deadline, tolerance: nil)
                    case .housekeeping: try await clock.sleepForHousekeeping(until: deadline)
                    }
                } catch {
                    return  // replaced or cancelled
                }
                await self?.fire(timer)
            })
            return replaced
        }
        replaced?.cancel()
    }

    /// Cancels a timer, and with it any older setting of its kind still running.
    func cancel(_ timer: Machine.Timer) {
        let cancelled = tasks.withLock { tasks -> Task<Void, Never>? in
            guard tasks[timer.kind].latest <= timer.id else { return nil }
            defer { tasks[timer.kind] = BackgroundTasks.TimerTask(latest: timer.id, task: nil) }
            return tasks[timer.kind].task
        }
        cancelled?.cancel()
    }

    /// A timer went off: the machine says what is due.
    ///
    /// When the operations' timer wakes the prober, its connect runs in this task, which leaves the timer's place
    /// first, so that setting the timer again meanwhile does not cancel the connect; a shutdown does. After the
    /// housekeeping timer, this task closes what sat or lived too long, opens minimum idle sessions, and sets the
    /// timer again if there is still something to do.
    private func fire(_ timer: Machine.Timer) async {
        let own = timer.kind == .operations ? leaveTimersPlace(timer) : nil
        let (fired, effects) = transition { machine, now in
            let actions = machine.timerFired(timer, now: now)
            return (actions != nil, actions ?? [])
        }
        var work = start(effects)
        if work.contains(where: { if case .probe = $0 { true } else { false } }), !becomeProber(own) {
            // Shut down since: the prober's slot frees without a connect.
            work.removeAll { if case .probe = $0 { true } else { false } }
            work += start(actions { $0.connectFailed(ShutDown(), for: .prober, now: $1).actions })
        }
        await run(work)
        guard fired, timer.kind == .housekeeping else { return }
        await openMinimumIdle()
        await perform(actions { $0.housekeepingFinished(now: $1) })
    }

    /// Takes this timer's task out of its place, if it is still there, and returns it.
    private func leaveTimersPlace(_ timer: Machine.Timer) -> Task<Void, Never>? {
        tasks.withLock { tasks in
            guard tasks[timer.kind].latest == timer.id else { return nil }
            defer { tasks[timer.kind].task = nil }
            return tasks[timer.kind].task
        }
    }

    /// Records `task` as the prober's, for a shutdown to cancel; false once the pool is shut down.
    private func becomeProber(_ task: Task<Void, Never>?) -> Bool {
        tasks.withLock { tasks in
            guard !tasks.isStopped else { return false }
            tasks.probe = task
            return true
        }
    }

    /// The prober's connect, in the slot the machine reserved for it; returns the work that follows.
    func probe(by deadline: Instant) async -> [Work] {
        do {
            let connection = try await connector.connect(deadline: deadline)
            return start(actions { $0.connected(connection, host: connection.host, for: .prober, now: $1).actions })
        } catch {
            return start(actions { $0.connectFailed(error, for: .prober, now: $1).actions })
        }
    }

    /// Cancels the timers and the prober's connect, for good.
    func stopBackgroundTasks() {
        let running = tasks.withLock { tasks -> [Task<Void, Never>] in
            tasks.isStopped = true
            defer {
                tasks.operations.task = nil
                tasks.housekeeping.task = nil
                tasks.probe = nil
            }
            return [tasks.operations.task, tasks.housekeeping.task, tasks.probe].compactMap { $0 }
        }
        for task in running { task.cancel() }
    }

    /// How many operations wait for a session, and how many of the pool's own tasks are asleep on the clock when
    /// nothing runs: the operations' timer while it is set, and the prober's connect while one is under way (a
    /// connect that is not asleep is running).
    var waits: (waitingOperations: Int, parkedTasks: Int) {
        state.withLock { state in
            let machine = state.machine
            let parked = (machine.operationsTimer == nil ? 0 : 1) + (machine.outage?.prober == .connecting ? 1 : 0)
            return (machine.waiters.count, parked)
        }
    }
}
