import Logging
import PostgresTransport
import ResilientPostgres

/// Plays one ``Schedule`` against a real `PostgresClient` whose sessions are the model server's, on virtual time.
///
/// The driver starts each caller's operations when their time comes, cancels the ones planned to be cancelled, and
/// otherwise waits until the system is quiescent, then moves the clock to the next instant anything is due (a
/// sleep ending, an operation starting, a cancel, an operation's deadline). See `README.md`, "Time".
struct ScheduleRunner {
    /// Yields in a row without progress before the system counts as quiescent.
    static let quietYields = 12
    /// Yields after which the driver stops yielding and starts pausing for real time instead: a task descheduled by
    /// a busy machine may need milliseconds to run on, far longer than a few thousand yields take.
    static let yieldLimit = 2_000
    /// Real time after which the driver stops waiting: an operation it cannot account for, or one that spins without
    /// ever waiting (a retry loop with no delay), would otherwise keep virtual time still for ever. Time must not
    /// move while a task merely waits for a CPU, or a schedule would fail for the load on the machine alone.
    static let realTimeLimit = Duration.seconds(2)
    /// Virtual time after which a schedule that has not finished counts as hung.
    static let horizon = Duration.seconds(4 * 3_600)

    let schedule: Schedule
    let tracing: Bool

    /// What the schedule produced, for the checker.
    struct Outcome: Sendable {
        var records: [OperationRecord]
        var model: ModelDatabase.State
        var shutDownAt: Duration?
        /// Operations still running when the driver gave up (hung).
        var stuck: [Int]
    }

    func run() async -> Outcome {
        let clock = SimulationClock()
        let database = ModelDatabase(schedule: schedule, clock: clock, tracing: tracing)
        let client = makeClient(database: database, clock: clock)
        let records = OperationLog(schedule.operations)
        let byCaller = Dictionary(grouping: schedule.operations, by: \.caller)
        var nextOfCaller = [Int](repeating: 0, count: schedule.callerCount)
        var readyAt = (0..<schedule.callerCount).map { byCaller[$0]?.first?.delay ?? .zero }
        var busy = [Bool](repeating: false, count: schedule.callerCount)
        var tasks: [Int: Task<Void, Never>] = [:]
        var shutDownAt: Duration?
        var stuck: [Int] = []

        func startDue() async -> Bool {
            var acted = false
            let now = clock.elapsed
            if let planned = schedule.shutdownAt, shutDownAt == nil, now >= planned {
                await client.shutdown()
                shutDownAt = clock.elapsed
                database.state.withLock { $0.shutDownAt = clock.elapsed }
                database.record(nil, "client shut down")
                acted = true
            }
            let snapshot = records.snapshot
            for caller in 0..<schedule.callerCount {
                if busy[caller], let current = byCaller[caller]?[nextOfCaller[caller] - 1],
                    let ended = snapshot[current.id].ended
                {
                    busy[caller] = false
                    if let next = byCaller[caller], nextOfCaller[caller] < next.count {
                        readyAt[caller] = ended + next[nextOfCaller[caller]].delay
                    }
                }
                guard !busy[caller], let planned = byCaller[caller], nextOfCaller[caller] < planned.count,
                    now >= readyAt[caller]
                else { continue }
                let operation = planned[nextOfCaller[caller]]
                nextOfCaller[caller] += 1
                busy[caller] = true
                let afterShutdown = shutDownAt != nil
                records.update(operation.id) {
                    $0.started = now
                    $0.startedAfterShutdown = afterShutdown
                }
                database.record(operation.id, "op \(operation.id) starts: \(operation.summary)")
                tasks[operation.id] = Task {
                    await SimulationContext.$operation.withValue(operation.id) {
                        database.registerTask(SimulationClock.currentTaskKey(), for: operation.id)
                        let outcome = await Workload.perform(operation, on: client)
                        records.update(operation.id) {
                            $0.ended = clock.elapsed
                            $0.outcome = outcome
                        }
                        database.record(operation.id, "op \(operation.id) ends: \(outcome)")
                        clock.tick()
                    }
                }
                acted = true
            }
            for operation in schedule.operations {
                guard let cancelAfter = operation.cancelAfter, let record = Optional(snapshot[operation.id]),
                    record.isLive, record.cancelledAt == nil, let started = record.started, now >= started + cancelAfter
                else { continue }
                tasks[operation.id]?.cancel()
                records.update(operation.id) { $0.cancelledAt = now }
                database.record(operation.id, "op \(operation.id) cancelled")
                acted = true
            }
            return acted
        }

        while true {
            if await startDue() { continue }
            let snapshot = records.snapshot
            let allEnded = snapshot.allSatisfy { $0.ended != nil }
            if allEnded { break }
            await quiesce(clock: clock, database: database, client: client, records: records)
            if await startDue() { continue }
            let snapshotAfter = records.snapshot
            if snapshotAfter.allSatisfy({ $0.ended != nil }) { break }
            var targets: [Duration] = []
            if let sleep = clock.earliestDeadline { targets.append(clock.start.duration(to: sleep)) }
            for caller in 0..<schedule.callerCount where !busy[caller] && nextOfCaller[caller] < (byCaller[caller]?.count ?? 0) {
                targets.append(readyAt[caller])
            }
            for record in snapshotAfter where record.isLive {
                let started = record.started!
                targets.append(started + schedule.configuration.budget)
                if let cancelAfter = schedule.operations[record.id].cancelAfter, record.cancelledAt == nil {
                    targets.append(started + cancelAfter)
                }
            }
            if let planned = schedule.shutdownAt, shutDownAt == nil { targets.append(planned) }
            let now = clock.elapsed
            guard let target = targets.filter({ $0 > now }).min(), target <= Self.horizon else {
                stuck = snapshotAfter.filter(\.isLive).map(\.id)
                break
            }
            clock.advance(to: clock.start.advanced(by: target))
        }

        for id in stuck { tasks[id]?.cancel() }
        if shutDownAt == nil {
            await client.shutdown()
            shutDownAt = clock.elapsed
            database.state.withLock { $0.shutDownAt = clock.elapsed }
            database.record(nil, "client shut down")
        }
        // Let background work (the prober, the pool's timers) run out; from here on nothing may touch the database.
        await quiesce(clock: clock, database: database, client: client, records: records)
        if stuck.isEmpty { database.state.withLock { $0.quiet = true } }
        for _ in 0..<8 {
            guard let next = clock.earliestDeadline else { break }
            clock.advance(to: next)
            await quiesce(clock: clock, database: database, client: client, records: records)
        }
        // A close the pool has begun may still wait for a CPU on a busy machine: give it real time, not virtual time,
        // before the checker counts its session as leaked. A session nothing is closing stays open all the same.
        let settling = ContinuousClock.now
        while stuck.isEmpty, !database.state.withLock({ $0.openSessionNumbers.isEmpty }),
            settling.duration(to: .now) < Self.realTimeLimit
        {
            try? await Task.sleep(for: .milliseconds(1))
        }
        return Outcome(
            records: records.snapshot, model: database.state.withLock { $0 }, shutDownAt: shutDownAt,
            stuck: stuck
        )
    }

    /// Waits until nothing runs: no event for ``quietYields`` yields in a row, and every live operation either
    /// sleeps on the clock itself or waits in the pool.
    private func quiesce(
        clock: SimulationClock,
        database: ModelDatabase,
        client: PostgresClient,
        records: OperationLog
    ) async {
        var last = clock.progress
        var stable = 0
        var total = 0
        let started = ContinuousClock.now
        while true {
            if total < Self.yieldLimit {
                await Task.yield()
            } else {
                guard started.duration(to: .now) < Self.realTimeLimit else { return }
                try? await Task.sleep(for: .milliseconds(1))
            }
            total += 1
            let progress = clock.progress
            if progress != last {
                last = progress
                stable = 0
                continue
            }
            stable += 1
            guard stable >= Self.quietYields, !clock.isWaking else { continue }
            let live = records.snapshot.filter(\.isLive).map(\.id)
            let tasks = database.state.withLock { state in live.map { state.operationTasks[$0] } }
            let (_, inPool, parked, poolIsWorking) = client.poolWaits
            let sleeping = clock.sleepingTasks
            guard clock.progress == last else { continue }
            // Every live operation's task sleeps on the clock or is parked in the pool's queue (one queued but not
            // yet parked, or resumed but not yet running, is still moving); the pool's timer is asleep while it is
            // set, and so is the prober's connect while one is under way; and none of the pool's tasks is at work
            // (housekeeping that went off, a close), which no operation waits for.
            let awake = tasks.count { task in task.map { !sleeping.contains($0) && !inPool.contains($0) } ?? true }
            let background = sleeping.count - tasks.count { task in task.map { sleeping.contains($0) } ?? false }
            if awake == 0, !poolIsWorking, background >= parked { return }
            stable = 0
        }
    }

    private func makeClient(database: ModelDatabase, clock: SimulationClock) -> PostgresClient {
        let simulated = schedule.configuration
        var configuration = PostgresClient.Configuration(connection: ConnectionParameters(options: [
            "host": ModelDatabase.hosts.joined(separator: ","), "port": String(ModelDatabase.port),
            "dbname": "app", "user": "app",
        ]))
        configuration.logger = Logger(label: "ResilientPostgresSimulation", factory: { _ in SwiftLogNoOpLogHandler() })
        configuration.maxConnections = simulated.maxConnections
        configuration.maxConcurrentConnects = simulated.maxConcurrentConnects
        configuration.connectJitter = simulated.connectJitter
        configuration.retryPolicy.budget = simulated.budget
        configuration.livenessCheckAfterIdle = simulated.livenessCheckAfterIdle
        configuration.connectTimeout = simulated.connectTimeout
        // As advised: a hung first host must leave most of an operation's budget for the hosts after it.
        configuration.hostConnectTimeout = min(.seconds(5), simulated.budget / 4)
        if !simulated.throttled { configuration.retryThrottle = nil }
        return PostgresClient(
            configuration: configuration,
            connector: ModelConnector(
                database: database, connectTimeout: simulated.connectTimeout,
                hostConnectTimeout: configuration.hostConnectTimeout
            ),
            clock: clock,
            randomSeed: schedule.seed
        )
    }
}
