internal import CLibPQ
import Synchronization

extension LibPQConnection {
    /// A statement started on the connection's thread (``startOnThread(_:parameters:resultFormat:prepared:)``) that
    /// waits for its answer from the caller's job, between two of its waits: what it read so far, where its waits are
    /// registered, and whether its request is still being sent.
    struct ThreadWait: @unchecked Sendable {
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

    /// Where the first step of a ``ThreadWait`` left its statement.
    enum ThreadWaitStep: @unchecked Sendable {
        // @unchecked Sendable: see `ThreadWait`.
        case wait(ThreadWait)
        case answered(QueryResult)
    }

    /// Collects the rest of the answer of a statement ``startOnThread(_:parameters:resultFormat:prepared:)`` left
    /// `waiting`, waiting for it as any statement does (cancelled with its task, its deadline, the grace period of a
    /// cancel request), and ends the connection's claim for it.
    ///
    /// On the connection's thread, where the statement started, it waits from the caller's job: each wait resumes
    /// the task on the thread in its own nonisolated code, and each read after a wait is a synchronous step isolated
    /// to the connection, as ``startOnThread(_:parameters:resultFormat:prepared:)``'s is. A statement that waits once
    /// then makes one trip through the thread's queue, its wait's resumption, where entering the actor to wait would
    /// make three or four: into the actor, out of the wait and into the actor again, and out of it. A task that
    /// resumes on another thread (a global job another I/O thread took) continues on the actor. Called from
    /// anywhere else, it takes the same steps on the actor.
    ///
    /// - Throws: ``TransportError``. If a job queued on the thread closed the connection before a step, the
    ///   statement fails with ``TransportError/Code/connectionClosed``.
    package nonisolated func completeWaiting(
        _ pending: PendingStatement,
        deadline: ContinuousClock.Instant?
    ) async throws -> QueryResult {
        guard ioThread.isCurrent else { return try await completeWaitingOnActor(pending, deadline: deadline) }
        switch try beginOnThread(pending) {
        case .answered(let result): return result
        case .wait(let wait): return try await waitCancellably(from: wait, deadline: deadline, isolation: nil)
        }
    }

    /// ``completeWaiting(_:deadline:)`` from a caller that is not on the connection's thread.
    private func completeWaitingOnActor(
        _ pending: PendingStatement,
        deadline: ContinuousClock.Instant?
    ) async throws -> QueryResult {
        switch try beginThreadWait(pending) {
        case .answered(let result): return result
        case .wait(let wait): return try await waitCancellably(from: wait, deadline: deadline, isolation: self)
        }
    }

    /// ``waitOnThread(from:deadline:isolation:)`` under a cancellation handler that sends a cancel request.
    @inline(__always)
    private func waitCancellably(
        from wait: ThreadWait,
        deadline: ContinuousClock.Instant?,
        isolation: isolated (any Actor)?
    ) async throws -> QueryResult {
        let cancellation = self.cancellation
        // For this statement only: a task that resumed off the thread ends its statement on the actor, and leaves
        // the handler only once it is back in its own code, when the connection may run another statement already.
        let registration = wait.registration
        return try await withTaskCancellationHandler {
            try await waitOnThread(from: wait, deadline: deadline, isolation: isolation)
        } onCancel: {
            cancellation.requestCancel(.task, for: registration)
        }
    }

    /// The waits of a ``ThreadWait`` and the steps after them, until the statement is over: from the caller's job on
    /// the thread (`isolation` nil), or on the actor after a resumption elsewhere (`isolation` the connection).
    @inline(__always)
    private func waitOnThread(
        from wait: ThreadWait,
        deadline: ContinuousClock.Instant?,
        isolation: isolated (any Actor)?
    ) async throws -> QueryResult {
        var wait = wait
        while true {
            // As `waitForSocket`: a wait holds no instant of its own unless a cancel was requested.
            let outcome =
                cancellation.isRequested
                ? await waitForCancelAnswer(
                    wait.interest, registration: wait.registration, deadline: deadline, isolation: isolation
                )
                : await ioThread.readiness.wait(
                    for: wait.interest, on: wait.registration, deadline: deadline, isolation: isolation
                )
            // On the actor, the task is on the thread; from the caller's job it almost always is.
            if isolation == nil, !ioThread.isCurrent {
                return try await continueWaitOnActor(wait, after: outcome, deadline: deadline)
            }
            if let result = try continueOnThread(&wait, after: outcome, deadline: deadline) { return result }
        }
    }

    /// How many statements that waited from their thread resumed elsewhere after a wait, and finished on the actor
    /// (see ``completeWaiting(_:deadline:)``), in this process: a figure for tests and diagnosis.
    package static let waitsFinishedOnActor = Atomic<Int>(0)

    /// The rest of a ``ThreadWait`` whose task resumed off the thread after a wait that ended with `outcome`.
    private func continueWaitOnActor(
        _ wait: ThreadWait,
        after outcome: SocketReadiness.Outcome,
        deadline: ContinuousClock.Instant?
    ) async throws -> QueryResult {
        Self.waitsFinishedOnActor.add(1, ordering: .relaxed)
        var wait = wait
        if let result = try continueThreadWait(&wait, after: outcome, deadline: deadline) { return result }
        return try await waitOnThread(from: wait, deadline: deadline, isolation: self)
    }

    /// ``beginThreadWait(_:)`` and ``continueThreadWait(_:after:deadline:)`` in the caller's job, as
    /// ``startOnThread(_:parameters:resultFormat:prepared:)`` runs its step: the caller is on the connection's thread
    /// (or on the actor), where the connection's jobs run one at a time and none while the caller's does. Each step
    /// is a global function isolated to the connection, called as a plain one, so that the reference needs no
    /// context on the heap.
    @inline(__always)
    private nonisolated func beginOnThread(_ pending: PendingStatement) throws -> ThreadWaitStep {
        typealias Step = (LibPQConnection, PendingStatement) throws -> ThreadWaitStep
        let step = unsafeBitCast(beginThreadWaitIsolated as ThreadWaitBeginning, to: Step.self)
        return try step(self, pending)
    }

    @inline(__always)
    private nonisolated func continueOnThread(
        _ wait: inout ThreadWait,
        after outcome: SocketReadiness.Outcome,
        deadline: ContinuousClock.Instant?
    ) throws -> QueryResult? {
        typealias Step = (LibPQConnection, inout ThreadWait, SocketReadiness.Outcome, ContinuousClock.Instant?) throws
            -> QueryResult?
        let step = unsafeBitCast(continueThreadWaitIsolated as ThreadWaitContinuation, to: Step.self)
        return try step(self, &wait, outcome, deadline)
    }

    /// The first step of a statement's wait from the thread: checks that the connection is still the statement's,
    /// marks the statement's cancellation as begun, and reads what arrived since the statement started.
    func beginThreadWait(_ pending: PendingStatement) throws -> ThreadWaitStep {
        guard let connection, connection == pending.connection else {
            // As `collectWaiting`: a job queued before this step closed the connection.
            pending.collected.clear()
            var error = closedDuringStatement(phase: pending.phaseIfSent)
            if let name = pending.preparedAs { notePreparedStatementFailure(&error, name: name) }
            isRunningStatement = false
            throw error
        }
        let registration = cancellation.begin(descriptor: PQsocket(connection))
        var wait = ThreadWait(pending: pending, collected: pending.collected, registration: registration)
        do {
            guard try advance(&wait, connection, afterWait: false) else { return .wait(wait) }
            let result = try finish(connection, wait)
            endThreadWait()
            return .answered(result)
        } catch {
            throw endThreadWait(failing: error, preparedAs: pending.preparedAs)
        }
    }

    /// A step of a statement's wait from the thread after a wait that ended with `outcome`, as `waitForSocket` and
    /// `collectResults` take it: fails if the connection was closed meanwhile; after a wait that was not for the
    /// socket, sends a cancel request once the deadline has passed, or closes the connection once a cancel request
    /// went unanswered for its grace period, and waits again; otherwise reads what arrived. Returns the statement's
    /// result once it is over, nil when it must wait again.
    func continueThreadWait(
        _ wait: inout ThreadWait,
        after outcome: SocketReadiness.Outcome,
        deadline: ContinuousClock.Instant?
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
            endThreadWait()
            return result
        } catch {
            throw endThreadWait(failing: error, preparedAs: wait.pending.preparedAs)
        }
    }

    /// Ends a statement that waited from the thread: its cancellation (begun in ``beginThreadWait(_:)``) and the
    /// connection's claim, as `collectWaitingThenEnd` does.
    private func endThreadWait() {
        cancellation.end()
        isRunningStatement = false
    }

    /// Ends a statement that waited from the thread and failed with `error`, which the statement cache hears of if
    /// the statement was the prepared statement `preparedAs`; returns the error to throw.
    private func endThreadWait(failing error: any Error, preparedAs: String?) -> any Error {
        endThreadWait()
        guard var error = error as? TransportError, let name = preparedAs else { return error }
        notePreparedStatementFailure(&error, name: name)
        return error
    }

    /// Reads what has arrived of the statement's answer, as one turn of `collectResults`' loops: returns true once
    /// every result is in (or the connection broke, which `finish` explains), false when the statement must wait
    /// for ``ThreadWait/interest``. `afterWait`: the socket was just found ready. Throws having cleared what it
    /// collected.
    private func advance(_ wait: inout ThreadWait, _ connection: OpaquePointer, afterWait: Bool) throws -> Bool {
        do {
            if wait.isFlushing {
                // "If it becomes read-ready, call PQconsumeInput, then call PQflush again."
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
    private func finish(_ connection: OpaquePointer, _ wait: borrowing ThreadWait) throws -> QueryResult {
        try finish(
            connection, wait.collected, statement: wait.pending.statement, phaseIfSent: wait.pending.phaseIfSent,
            isCommit: wait.pending.phaseIfSent == .commitInFlight, couldRequestCancel: true
        )
    }
}

/// The steps of `LibPQConnection.completeWaiting(_:deadline:)` isolated to the connection, as global functions (see
/// `LibPQConnection.beginOnThread`).
private typealias ThreadWaitBeginning = (isolated LibPQConnection, LibPQConnection.PendingStatement) throws
    -> LibPQConnection.ThreadWaitStep
private typealias ThreadWaitContinuation = (
    isolated LibPQConnection, inout LibPQConnection.ThreadWait, SocketReadiness.Outcome, ContinuousClock.Instant?
) throws -> QueryResult?

private func beginThreadWaitIsolated(
    _ connection: isolated LibPQConnection,
    _ pending: LibPQConnection.PendingStatement
) throws -> LibPQConnection.ThreadWaitStep {
    try connection.beginThreadWait(pending)
}

private func continueThreadWaitIsolated(
    _ connection: isolated LibPQConnection,
    _ wait: inout LibPQConnection.ThreadWait,
    _ outcome: SocketReadiness.Outcome,
    _ deadline: ContinuousClock.Instant?
) throws -> QueryResult? {
    try connection.continueThreadWait(&wait, after: outcome, deadline: deadline)
}
