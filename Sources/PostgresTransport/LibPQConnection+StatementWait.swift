internal import CLibPQ
import PostgresPolicy
import Synchronization

extension LibPQConnection {
    /// A statement whose answer was not all there after its send, between two of its waits: what it read so far,
    /// where its waits are registered, and whether its request is still being sent.
    ///
    /// Every statement that waits goes through the same steps, isolated to the connection: ``beginWait(_:)``, then
    /// ``continueWait(_:after:deadline:)`` after each wait. They run on the actor
    /// (``completeWaitingOnActor(_:deadline:)``), or, for a statement started in place, in the caller's job
    /// (``completeWaiting(_:deadline:)``).
    struct StatementWait: @unchecked Sendable {
        // @unchecked Sendable: as `PendingStatement`'s, its results are its statement's alone, and reached only in
        // steps isolated to the connection.
        /// The statement, as it started: what it read before this wait began is in ``collected`` now.
        let pending: PendingStatement
        /// What was read of the answer so far.
        var collected: CollectedResults
        let registration: SocketReadiness.Registration
        /// Whether the request is still being sent: the next wait is then for the socket to be readable or writable.
        var isFlushing = true

        var interest: SocketReadiness.Interest { isFlushing ? .readableOrWritable : .readable }
    }

    /// Where the first step of a ``StatementWait`` left its statement.
    enum WaitStep: @unchecked Sendable {
        // @unchecked Sendable: see `StatementWait`.
        case wait(StatementWait)
        case answered(QueryResult)
    }

    /// Collects the rest of the answer of a statement ``startInPlace(_:parameters:resultFormat:prepared:)`` left
    /// `waiting`, waiting for it as any statement does (cancelled with its task, its deadline, the grace period of a
    /// cancel request), and ends the connection's claim for it.
    ///
    /// It waits from the caller's job, where the statement started: each wait resumes the task in its own
    /// nonisolated code, and each read after a wait is a synchronous step isolated to the connection, as
    /// ``startInPlace(_:parameters:resultFormat:prepared:)``'s is.
    /// - On the connection's thread, a statement that waits once then makes one trip through the thread's queue,
    ///   its wait's resumption, where entering the actor to wait would make three or four: into the actor, out of the
    ///   wait and into the actor again, and out of it.
    /// - Elsewhere (Swift's global executor), the task waits with no preference of the thread, resumes on its own
    ///   executor, and runs each step there while the thread's loop runs no job (`IOThread.withIsolationIfIdle`):
    ///   one hand-over between threads, the wait's resumption, where the actor costs two. A task that started on the
    ///   thread and resumed elsewhere (one that did not prefer the thread, back on the global executor after a wait)
    ///   goes on the same way.
    ///
    /// A step that finds the loop running jobs goes on on the actor, as does every step away from the thread once
    /// the I/O threads are the global executor (see `IOThread.withIsolationIfIdle`).
    ///
    /// - Throws: ``TransportError``. If a job queued on the thread closed the connection before a step, the
    ///   statement fails with ``TransportError/Code/connectionClosed``.
    package nonisolated func completeWaiting(
        _ pending: PendingStatement,
        deadline: OffsetInstant?
    ) async throws -> QueryResult {
        let step: WaitStep? =
            ioThread.isCurrent ? try beginInPlace(pending) : try ioThread.withIsolationIfIdle { try beginInPlace(pending) }
        switch step {
        case .answered(let result): return result
        case .wait(let wait):
            // On the thread, the task prefers it already (a transaction, `withSessionThread`), or the I/O threads are
            // the global executor; should it not, each wait takes the preference itself (`SocketReadiness.wait`).
            // Elsewhere, no wait takes one (`waitForAnswer`).
            return try await waitCancellably(from: wait, deadline: deadline, isolation: nil, prefersThread: true)
        case nil:
            return try await completeWaitingOnActor(pending, deadline: deadline)
        }
    }

    /// Collects the rest of the answer of a statement that must wait for it, on the actor, and ends the connection's
    /// claim for it: a statement started on the actor (``execute(_:parameters:resultFormat:deadline:)`` and the other
    /// entry points), or one ``completeWaiting(_:deadline:)`` completes away from the connection's thread while the
    /// thread runs jobs.
    ///
    /// Always inlined into the entry points, as is what it calls: each async function entered costs a frame and a
    /// switch of executors, which a task with an executor preference pays with a lock of its status.
    @inline(__always)
    func completeWaitingOnActor(
        _ pending: PendingStatement,
        deadline: OffsetInstant?
    ) async throws -> QueryResult {
        switch try beginWait(pending) {
        case .answered(let result):
            return result
        case .wait(let wait):
            return try await waitCancellably(
                from: wait, deadline: deadline, isolation: self,
                prefersThread: ioThread.readiness.taskPrefersThread()
            )
        }
    }

    /// ``waitForAnswer(from:deadline:isolation:)`` under a cancellation handler that sends a cancel request; unless
    /// the task `prefersThread` already, with one preference of the I/O thread for all of the statement's waits (see
    /// ``SocketReadiness/preferringThread(isolation:_:)``), as a large result read as it arrives waits many times.
    @inline(__always)
    private func waitCancellably(
        from wait: StatementWait,
        deadline: OffsetInstant?,
        isolation: isolated (any Actor)?,
        prefersThread: Bool
    ) async throws -> QueryResult {
        let cancellation = self.cancellation
        // For this statement only: a task that waited in its own job may end its statement on the actor, and leaves
        // the handler only once it is back in its own code, when the connection may run another statement already.
        let registration = wait.registration
        // Two closures rather than one that branches: inlined where `prefersThread` is a constant, the branch not
        // taken goes, and the closure left is no larger than its own waits need (about 200 instructions a statement
        // less under callgrind).
        if prefersThread {
            return try await withTaskCancellationHandler {
                try await waitForAnswer(from: wait, deadline: deadline, isolation: isolation)
            } onCancel: {
                cancellation.requestCancel(.task, for: registration)
            }
        }
        return try await withTaskCancellationHandler {
            try await ioThread.readiness.preferringThread(isolation: isolation) {
                try await waitForAnswer(from: wait, deadline: deadline, isolation: isolation)
            }
        } onCancel: {
            cancellation.requestCancel(.task, for: registration)
        }
    }

    /// The waits of a ``StatementWait`` and the steps after them, until the statement is over: from the caller's job,
    /// on the thread or elsewhere (`isolation` nil), or on the actor (`isolation` the connection).
    @inline(__always)
    private func waitForAnswer(
        from wait: StatementWait,
        deadline: OffsetInstant?,
        isolation: isolated (any Actor)?
    ) async throws -> QueryResult {
        var wait = wait
        while true {
            // On the actor, the task is on the thread. From the caller's job, it is there too, or elsewhere, where a
            // preference of the thread would only make the task resume on the thread and come back.
            let isElsewhere = isolation == nil && !ioThread.isCurrent
            // As `waitForSocket`: a wait holds no instant of its own unless a cancel was requested.
            let outcome =
                cancellation.isRequested
                ? await waitForCancelAnswer(
                    wait.interest, registration: wait.registration, deadline: deadline, prefersThread: !isElsewhere,
                    isolation: isolation
                )
                : await ioThread.readiness.wait(
                    for: wait.interest, on: wait.registration, until: deadline, prefersThread: !isElsewhere,
                    isolation: isolation
                )
            if isolation == nil, !ioThread.isCurrent {
                // Elsewhere (or resumed on another thread than the one that waited): the step runs here if the loop
                // runs no job meanwhile, and on the actor otherwise.
                guard
                    let step = try ioThread.withIsolationIfIdle({
                        try continueInPlace(&wait, after: outcome, deadline: deadline)
                    })
                else {
                    return try await continueWaitOnActor(wait, after: outcome, deadline: deadline)
                }
                if let result = step { return result }
                continue
            }
            if let result = try continueInPlace(&wait, after: outcome, deadline: deadline) { return result }
        }
    }

    /// How many statements that waited from the caller's job went on on the actor after a wait (their task resumed
    /// away from the thread, which ran jobs, or which is the global executor; see ``completeWaiting(_:deadline:)``),
    /// in this process: a figure for tests and diagnosis.
    package static let waitsFinishedOnActor = Atomic<Int>(0)

    /// The rest of a ``StatementWait`` whose task resumed off the thread after a wait that ended with `outcome`.
    private func continueWaitOnActor(
        _ wait: StatementWait,
        after outcome: SocketReadiness.Outcome,
        deadline: OffsetInstant?
    ) async throws -> QueryResult {
        Self.waitsFinishedOnActor.add(1, ordering: .relaxed)
        var wait = wait
        if let result = try continueWait(&wait, after: outcome, deadline: deadline) { return result }
        return try await waitForAnswer(from: wait, deadline: deadline, isolation: self)
    }

    /// ``beginWait(_:)`` and ``continueWait(_:after:deadline:)`` in the caller's job, as
    /// ``startInPlace(_:parameters:resultFormat:prepared:)`` runs its step: the caller is on the connection's thread
    /// (or on the actor), where the connection's jobs run one at a time and none while the caller's does, or holds
    /// the thread's isolation (`IOThread.withIsolationIfIdle`). Each step is a global function isolated to the
    /// connection, called as a plain one, so that the reference needs no context on the heap.
    @inline(__always)
    private nonisolated func beginInPlace(_ pending: PendingStatement) throws -> WaitStep {
        typealias Step = (LibPQConnection, PendingStatement) throws -> WaitStep
        let step = unsafeBitCast(beginWaitIsolated as WaitBeginning, to: Step.self)
        return try step(self, pending)
    }

    @inline(__always)
    private nonisolated func continueInPlace(
        _ wait: inout StatementWait,
        after outcome: SocketReadiness.Outcome,
        deadline: OffsetInstant?
    ) throws -> QueryResult? {
        typealias Step = (LibPQConnection, inout StatementWait, SocketReadiness.Outcome, OffsetInstant?) throws
            -> QueryResult?
        let step = unsafeBitCast(continueWaitIsolated as WaitContinuation, to: Step.self)
        return try step(self, &wait, outcome, deadline)
    }

    /// The first step of a statement's wait: checks that the connection is still the statement's, marks the
    /// statement's cancellation as begun (`StatementCancellation.begin`), and reads what arrived since the statement
    /// started, the answer itself, perhaps.
    func beginWait(_ pending: PendingStatement) throws -> WaitStep {
        guard let connection, connection == pending.connection else {
            // A job that ran before this step closed the connection (a step in place may also run before jobs queued
            // earlier: each step checks the connection first, whatever ran before it).
            pending.collected.clear()
            var error = closedDuringStatement(phase: pending.phaseIfSent)
            if let name = pending.preparedAs { notePreparedStatementFailure(&error, name: name) }
            isRunningStatement = false
            throw error
        }
        let registration = cancellation.begin(descriptor: PQsocket(connection))
        var wait = StatementWait(pending: pending, collected: pending.collected, registration: registration)
        do {
            guard try advance(&wait, connection, afterWait: false) else { return .wait(wait) }
            let result = try finish(connection, wait)
            endWait()
            return .answered(result)
        } catch {
            throw endWait(failing: error, preparedAs: pending.preparedAs)
        }
    }

    /// A step of a statement's wait after a wait that ended with `outcome`: fails if the connection was closed
    /// meanwhile; after a wait that was not for the socket, sends a cancel request once the deadline has passed, or
    /// closes the connection once a cancel request went unanswered for its grace period, and waits again (see
    /// ``waitEnded(phase:deadline:)``); otherwise reads what arrived. Returns the statement's result once it is over,
    /// nil when it must wait again.
    func continueWait(
        _ wait: inout StatementWait,
        after outcome: SocketReadiness.Outcome,
        deadline: OffsetInstant?
    ) throws -> QueryResult? {
        do {
            guard let connection, connection == wait.pending.connection else {
                wait.collected.clear()
                throw closedDuringStatement(phase: wait.pending.phaseIfSent)
            }
            guard outcome == .ready else {
                do {
                    try waitEnded(phase: wait.pending.phaseIfSent, deadline: deadline)
                } catch {
                    wait.collected.clear()
                    throw error
                }
                return nil  // a spurious wake, or a cancel just requested: wait again
            }
            guard try advance(&wait, connection, afterWait: true) else { return nil }
            let result = try finish(connection, wait)
            endWait()
            return result
        } catch {
            throw endWait(failing: error, preparedAs: wait.pending.preparedAs)
        }
    }

    /// Ends a statement that waited: its cancellation (begun in ``beginWait(_:)``) and the connection's claim.
    private func endWait() {
        cancellation.end()
        isRunningStatement = false
    }

    /// Ends a statement that waited and failed with `error`, which the statement cache hears of if
    /// the statement was the prepared statement `preparedAs`; returns the error to throw.
    private func endWait(failing error: any Error, preparedAs: String?) -> any Error {
        endWait()
        guard var error = error as? TransportError, let name = preparedAs else { return error }
        notePreparedStatementFailure(&error, name: name)
        return error
    }

    /// Reads what has arrived of the statement's answer, as libpq's manual has a non-blocking client do it: sends the
    /// rest of the request first, then reads the input and takes every result it completes. Returns true once every
    /// result is in (or the connection broke, which `finish` explains), false when the statement must wait for
    /// ``StatementWait/interest``. `afterWait`: the socket was just found ready. Throws having cleared what it
    /// collected.
    private func advance(_ wait: inout StatementWait, _ connection: OpaquePointer, afterWait: Bool) throws -> Bool {
        do {
            if wait.isFlushing {
                // Flush: "wait for the socket to be read-ready or write-ready. If it becomes write-ready, call
                // PQflush again. If it becomes read-ready, call PQconsumeInput, then call PQflush again."
                if afterWait { _ = PQconsumeInput(connection) }
                let flushed = PQflush(connection)
                if flushed < 0 { return true }  // broken; PQgetResult in `finish` reports why
                if flushed == 1 { return false }
                wait.isFlushing = false
                // Sent: the answer may be there already, unless the input was just read.
                if try readResults(connection, into: &wait.collected, phaseIfSent: wait.pending.phaseIfSent) {
                    return true
                }
                if wait.pending.waitingFirst { return false }
            }
            if PQconsumeInput(connection) == 0, PQisBusy(connection) == 1 {
                return true  // the connection broke; finish reports PQerrorMessage
            }
            return try readResults(connection, into: &wait.collected, phaseIfSent: wait.pending.phaseIfSent)
        } catch {
            wait.collected.clear()
            wait.collected = CollectedResults()
            throw error
        }
    }

    /// The statement's result or its failure, from what its wait collected.
    private func finish(_ connection: OpaquePointer, _ wait: borrowing StatementWait) throws -> QueryResult {
        try finish(
            connection, wait.collected, statement: wait.pending.statement, phaseIfSent: wait.pending.phaseIfSent,
            isCommit: wait.pending.phaseIfSent == .commitInFlight, couldRequestCancel: true
        )
    }
}

/// The steps of a statement's wait isolated to the connection, as global functions, which
/// `LibPQConnection.completeWaiting(_:deadline:)` calls in the caller's job (see `LibPQConnection.beginInPlace`).
private typealias WaitBeginning = (isolated LibPQConnection, LibPQConnection.PendingStatement) throws
    -> LibPQConnection.WaitStep
private typealias WaitContinuation = (
    isolated LibPQConnection, inout LibPQConnection.StatementWait, SocketReadiness.Outcome, OffsetInstant?
) throws -> QueryResult?

private func beginWaitIsolated(
    _ connection: isolated LibPQConnection,
    _ pending: LibPQConnection.PendingStatement
) throws -> LibPQConnection.WaitStep {
    try connection.beginWait(pending)
}

private func continueWaitIsolated(
    _ connection: isolated LibPQConnection,
    _ wait: inout LibPQConnection.StatementWait,
    _ outcome: SocketReadiness.Outcome,
    _ deadline: OffsetInstant?
) throws -> QueryResult? {
    try connection.continueWait(&wait, after: outcome, deadline: deadline)
}
