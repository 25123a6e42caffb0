internal import CLibPQ

/// How far a pipeline has got: which commands were queued, which were answered and how, and what it means for the
/// phase of a failure. Owns the error result it keeps until it is released.
///
/// In pipeline mode libpq answers commands in the order they were queued: each command's result (or
/// `PGRES_PIPELINE_ABORTED` once an earlier command failed) followed by a NULL, and a `PGRES_PIPELINE_SYNC` result,
/// with no NULL after it, for each synchronization point. Touched only by the connection that runs the pipeline.
final class PipelineProgress {
    private enum Queued {
        case command(Int)
        case sync
    }

    /// The commands as planned, syncs included.
    let plan: PipelinePlan
    /// Whether an explicit transaction block was open when the pipeline started: then a sync commits nothing.
    let startedInTransactionBlock: Bool
    /// The next planned command to queue.
    private(set) var nextCommand = 0
    /// Set when no more planned commands are to be queued: the caller's task was cancelled, or the deadline passed.
    var stopsQueueing = false
    /// Set when the connection broke, or its answers stopped making sense.
    private(set) var isBroken = false
    /// Set when the server started a `COPY`, which a pipeline cannot carry.
    private(set) var sawUnsupportedResult = false

    /// What was queued, from the first item not yet answered or a little earlier: answered items are dropped
    /// from time to time (``queueNext(on:resultFormat:)``), so that a large batch does not keep one per statement.
    private var queued: [Queued] = []
    /// The first queued item whose answer is not complete.
    private var head = 0
    /// How many answered items were dropped from the front of ``queued``.
    private var dropped = 0
    private var results: [QueryResult?]
    /// The first error result, and the command it answered (nil for a sync: the implicit commit failed).
    private(set) var firstError: (command: Int?, result: OpaquePointer)?
    /// How many syncs had been answered before the first error: which implicit transaction it ended.
    private(set) var firstErrorSegment = 0
    private var syncsQueued = 0
    private var syncsReceived = 0
    /// NULL results in a row while a sync's answer was awaited (one follows an error at the sync).
    private var nullsAwaitingSync = 0
    /// Set by an error result; the open implicit transaction is ended once the failed command's NULL is read.
    private var endsAfterError = false

    init(plan: PipelinePlan, startedInTransactionBlock: Bool) {
        self.plan = plan
        self.startedInTransactionBlock = startedInTransactionBlock
        self.results = Array(repeating: nil, count: plan.count)
    }

    deinit {
        if let firstError { PQclear(firstError.result) }
    }

    /// Whether nothing was queued yet.
    var isEmpty: Bool { queued.isEmpty && dropped == 0 }

    /// Whether planned commands remain to be queued.
    var hasCommandsToQueue: Bool { nextCommand < plan.count && !stopsQueueing }

    /// Whether the next planned command is a sync.
    var nextIsSync: Bool { nextCommand < plan.count && plan.isSync(nextCommand) }

    /// Whether every queued command and sync has been answered.
    var isAnswered: Bool { head == queued.count }

    /// Whether the pipeline is over: everything planned was queued (or given up after an error) and answered.
    var isFinished: Bool { isAnswered && nextCommand == plan.count }

    /// Whether the last thing queued was a sync, so that no implicit transaction is left open.
    var endsWithSync: Bool {
        if case .sync = queued.last { return true }
        return false
    }

    /// Whether the sync ending the first implicit transaction has been answered.
    var firstSyncAnswered: Bool { syncsReceived > 0 }

    /// The phase of a failure that left the answer unknown: after a sync was sent (outside an explicit transaction
    /// block) the implicit transaction may have committed; before that, it cannot have.
    var phaseIfLost: TransportError.Phase {
        !startedInTransactionBlock && syncsQueued > syncsReceived ? .commitInFlight : .sent
    }

    /// The phase of the first error result: a server error for a statement means its implicit transaction was
    /// rolled back (`.sent`); an error at a sync is a failed commit; an error libpq made itself (no SQLSTATE: the
    /// connection was lost) leaves the answer unknown.
    func phaseOfFirstError(hasSQLState: Bool) -> TransportError.Phase {
        guard hasSQLState else { return phaseIfLost }
        guard firstError?.command == nil else { return .sent }
        return startedInTransactionBlock ? .sent : .commitInFlight
    }

    /// The successful result of a command, handed over to the caller.
    func takeResult(_ command: Int) -> QueryResult? {
        defer { results[command] = nil }
        return results[command]
    }

    /// Queues the next planned command. Returns false when libpq refused it.
    func queueNext(on connection: OpaquePointer, resultFormat: ValueFormat) -> Bool {
        let command = plan.command(nextCommand)
        guard command.send(on: connection, resultFormat: resultFormat) else { return false }
        dropAnswered()
        if command.isSync {
            queued.append(.sync)
            syncsQueued += 1
        } else {
            queued.append(.command(nextCommand))
        }
        nextCommand += 1
        return true
    }

    /// After an error, ends the open implicit transaction with a sync of its own (the server skips everything up to
    /// it), and gives up the planned commands not yet queued. Call it when the failed command's results are all
    /// read (`head` is past it). Returns false when libpq refused the sync.
    private func endAfterError(on connection: OpaquePointer) -> Bool {
        let segmentIsOpen = !queued[head...].contains { if case .sync = $0 { true } else { false } }
        guard segmentIsOpen, nextCommand < plan.count else { return true }
        guard PQpipelineSync(connection) == 1 else { return false }
        queued.append(.sync)
        syncsQueued += 1
        nextCommand = plan.count
        return true
    }

    /// Drops the answered items from the front of ``queued`` once they are at least half of it and a thousand or
    /// more. Called just before an item is appended, so that ``queued`` is never left empty by it (``isEmpty`` and
    /// ``endsWithSync`` read it); nothing reads an item before ``head`` again.
    private func dropAnswered() {
        guard head >= 1024, head * 2 >= queued.count else { return }
        queued.removeFirst(head)
        dropped += head
        head = 0
    }

    /// Gives up the planned commands not yet queued (after a cancel, when the last queued item was a sync).
    func skipRemainingCommands() {
        nextCommand = plan.count
    }

    /// Reads every result libpq has ready, without waiting (`PQgetResult` only blocks while `PQisBusy` says so).
    func readAvailableResults(from connection: OpaquePointer) {
        while head < queued.count, !isBroken, !sawUnsupportedResult {
            if PQstatus(connection) != CONNECTION_OK, firstError != nil {
                // libpq has reported the loss; what else it returns now is empty.
                isBroken = true
                return
            }
            if PQisBusy(connection) == 1 { return }
            let result = PQgetResult(connection)
            switch queued[head] {
            case .command(let index):
                guard let result else {
                    head += 1  // the end of this command's results
                    if endsAfterError {
                        // Not before this NULL: a sync queued between a result and its NULL makes libpq move on
                        // to the next command at once, and the NULL is never returned.
                        endsAfterError = false
                        if PQstatus(connection) == CONNECTION_OK, !endAfterError(on: connection) { isBroken = true }
                    }
                    continue
                }
                take(result, answering: index)
            case .sync:
                guard let result else {
                    nullsAwaitingSync += 1
                    if PQstatus(connection) != CONNECTION_OK || nullsAwaitingSync > 2 { isBroken = true }
                    continue
                }
                nullsAwaitingSync = 0
                if PQresultStatus(result) == PGRES_PIPELINE_SYNC {
                    PQclear(result)
                    head += 1
                    syncsReceived += 1
                } else {
                    take(result, answering: nil)
                }
            }
        }
    }

    private func take(_ result: OpaquePointer, answering command: Int?) {
        switch PQresultStatus(result) {
        case PGRES_PIPELINE_ABORTED:
            PQclear(result)  // skipped by the server after an earlier error
        case PGRES_FATAL_ERROR, PGRES_BAD_RESPONSE, PGRES_NONFATAL_ERROR:
            guard firstError == nil else {
                PQclear(result)  // a consequence of the first (libpq's "server closed the connection")
                return
            }
            firstError = (command, result)
            firstErrorSegment = syncsReceived
            endsAfterError = command != nil
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            PQclear(result)
            sawUnsupportedResult = true
        default:
            if let command {
                // A small result is copied and cleared now, so that a large batch does not hold every PGresult.
                let previous = command > 0 ? results[command - 1] : nil
                results[command] = QueryResult(copyingSmall: result, after: previous) ?? QueryResult(taking: result)
            } else {
                PQclear(result)
            }
        }
    }
}
