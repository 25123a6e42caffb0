import PostgresTransport

extension ConnectionPool {
    /// The tasks the pool runs on its own: one per timer, and the one running the prober's connect; kept under the
    /// pool's lock, in step with the timers the machine holds.
    ///
    /// Two timers, not one: operations' deadlines and the prober's pauses sleep on the client's clock with
    /// `sleep(until:tolerance:)`, housekeeping with `sleepForHousekeeping(until:)`, which a test clock keeps apart
    /// from the waits a test steps through one by one (`ManualClock.pendingHousekeeping`), and which the simulator
    /// does not count as a sign that an operation or the prober is parked.
    struct Timers {
        struct Sleeper {
            let timer: Machine.Timer
            let task: Task<Void, Never>
        }

        /// The task sleeping until the operations' timer, or nil while a timer task that woke runs what it woke for.
        var operations: Sleeper?
        /// The operations' timer set by the timer task that woke, for it to sleep for once it is done (see
        /// ``ConnectionPool/fire(_:)``), instead of a new task.
        var adopted: Machine.Timer?
        var housekeeping: Sleeper?
        /// The task running the prober's connect, for a shutdown to cancel.
        var probe: Task<Void, Never>?
        var isStopped = false

        /// Sets `timer`, cancelling the task of its kind's earlier setting: a new task sleeps until it, or, when
        /// `adopted`, the operations' timer task that woke will.
        mutating func set(_ timer: Machine.Timer, adopted: Bool, start: (Machine.Timer) -> Task<Void, Never>) {
            guard !isStopped else { return }
            cancel(timer.kind)
            if adopted {
                self.adopted = timer
            } else if timer.kind == .operations {
                operations = Sleeper(timer: timer, task: start(timer))
            } else {
                housekeeping = Sleeper(timer: timer, task: start(timer))
            }
        }

        mutating func cancel(_ kind: Machine.Timer.Kind) {
            if kind == .operations {
                operations?.task.cancel()
                operations = nil
                adopted = nil
            } else {
                housekeeping?.task.cancel()
                housekeeping = nil
            }
        }

        /// Cancels every task, for good: the timers, a housekeeping that runs, and the prober's connect.
        mutating func stop() {
            isStopped = true
            cancel(.operations)
            cancel(.housekeeping)
            probe?.cancel()
            probe = nil
        }
    }

    /// A task that sleeps until the timer's deadline and reports it, then sleeps for the setting it adopted, if any.
    func makeTimerTask(_ timer: Machine.Timer) -> Task<Void, Never> {
        Task { [weak self, clock] in
            var timer = timer
            while true {
                let deadline = ContinuousClock.Instant(timer.deadline)
                do {
                    switch timer.kind {
                    case .operations: try await clock.sleep(until: deadline, tolerance: nil)
                    case .housekeeping: try await clock.sleepForHousekeeping(until: deadline)
                    }
                } catch {
                    return  // replaced or cancelled
                }
                guard let next = await self?.fire(timer) else { return }
                timer = next
            }
        }
    }

    /// A timer went off: the machine says what is due. Returns the setting this task sleeps for next, if it
    /// adopted one.
    ///
    /// The operations' timer task leaves its place first, so that setting the timer again meanwhile does not cancel
    /// what it runs; a shutdown does. When it wakes the prober, the prober's connect runs in this task (the timer is
    /// set for the waiting operations' deadlines meanwhile), and the timer's next setting, made once the connect
    /// has ended, is this task's to sleep for: the prober's pauses and connects follow one another in one task, as
    /// the deadlines of operations waiting one after the other do. After the housekeeping timer, this task closes
    /// what sat or lived too long, opens minimum idle sessions, and sets the timer again if there is still
    /// something to do.
    private func fire(_ timer: Machine.Timer) async -> Machine.Timer? {
        let own = timer.kind == .operations ? leaveTimersPlace(timer) : nil
        let adopting = own != nil
        let (fired, effects) = transition(adopting: adopting) { machine, now in
            let actions = machine.timerFired(timer, now: now)
            return (actions != nil, actions ?? [])
        }
        var work = start(effects)
        if work.contains(where: { if case .probe = $0 { true } else { false } }), !becomeProber(own) {
            // Shut down since: the prober's slot frees without a connect.
            work.removeAll { if case .probe = $0 { true } else { false } }
            work += start(actions { $0.connectFailed(ShutDown(), for: .prober, now: $1).actions })
        }
        await run(work, adopting: adopting)
        if fired, timer.kind == .housekeeping {
            await openMinimumIdle()
            await perform(actions { $0.housekeepingFinished(now: $1) })
        }
        return own.flatMap(takeAdopted)
    }

    /// Takes the operations' timer task out of its place, if it is still there for `timer`, and returns it.
    private func leaveTimersPlace(_ timer: Machine.Timer) -> Task<Void, Never>? {
        state.withLock { state in
            guard let sleeper = state.timers.operations, sleeper.timer == timer else { return nil }
            state.timers.operations = nil
            return sleeper.task
        }
    }

    /// The operations' timer `task` adopted, if it is still set: `task` takes its place again, to sleep for it.
    private func takeAdopted(by task: Task<Void, Never>) -> Machine.Timer? {
        state.withLock { state in
            guard let adopted = state.timers.adopted else { return nil }
            state.timers.adopted = nil
            state.timers.operations = Timers.Sleeper(timer: adopted, task: task)
            return adopted
        }
    }

    /// Records `task` as the prober's, for a shutdown to cancel; false once the pool is shut down.
    private func becomeProber(_ task: Task<Void, Never>?) -> Bool {
        state.withLock { state in
            guard !state.timers.isStopped else { return false }
            state.timers.probe = task
            return true
        }
    }

    /// The prober's connect, in the slot the machine reserved for it; returns the work that follows.
    func probe(by deadline: Instant, adopting: Bool) async -> [Work] {
        do {
            let connection = try await open(deadline: deadline)
            return start(actions(adopting: adopting) {
                $0.connected(connection, host: connection.host, for: .prober, now: $1).actions
            })
        } catch {
            return start(actions(adopting: adopting) { $0.connectFailed(error, for: .prober, now: $1).actions })
        }
    }

    /// Which tasks are parked waiting for a session (by the hash of their `UnsafeCurrentTask`), how many operations
    /// wait in all (parked, or queued and about to park), how many of the pool's own tasks are asleep on the clock
    /// when nothing runs (the operations' timer while it is set, and the prober's connect while one is under way: a
    /// connect that is not asleep is running), and whether a task of the pool's is at work now (housekeeping that
    /// went off and has not finished, or a session being closed).
    var waits: (waitingOperations: Int, parkedOperationTasks: Set<Int>, parkedTasks: Int, isWorking: Bool) {
        state.withLock { state in
            let machine = state.machine
            let parked = (machine.operationsTimer == nil ? 0 : 1) + (machine.outage?.prober == .connecting ? 1 : 0)
            let tasks = state.parked.values.compactMap { parking -> Int? in
                if case .parked(_, let task) = parking { task } else { nil }
            }
            let working = machine.housekeeping == .running || machine.sessions.contains(.closing)
            return (machine.waiters.count, Set(tasks), parked, working)
        }
    }
}
