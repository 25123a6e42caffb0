internal import CLibPQ

extension LibPQConnection {
    /// Sends a statement whose rows are then read in batches with ``nextRows(maximumCount:deadline:)``, in libpq's
    /// single-row mode (`PQsetSingleRowMode`): the rows are read as the server sends them, and memory holds only
    /// the batch being handed over, whatever the number of rows.
    ///
    /// The connection stays busy with the statement until ``nextRows(maximumCount:deadline:)`` has returned nil or
    /// thrown, or ``stopStreaming()`` has stopped it.
    ///
    /// - Throws: ``TransportError``; the statement is over when this throws.
    public func startRows(
        _ sql: String,
        parameters: [Parameter] = [],
        resultFormat: ValueFormat = .text,
        deadline: ContinuousClock.Instant? = nil
    ) async throws {
        try await startStreaming(
            .rows, sql: sql, parameters: parameters, resultFormat: resultFormat, deadline: deadline
        )
    }

    /// The next rows of the statement ``startRows(_:parameters:resultFormat:deadline:)`` sent, gathered into one
    /// result: those that have arrived, up to `maximumCount` and at most 512 (or about 56 KiB of values), waiting
    /// only when none has; nil once every row has been handed over, which ends the statement.
    ///
    /// A call reads what has arrived without giving up the connection's I/O thread, which other connections share,
    /// for up to one batch: the cap on its rows bounds that however fast the server sends rows of no bytes.
    ///
    /// Rows that have arrived are read in the caller's job, isolated to the connection, as the client's statements
    /// are (`startInPlace`): on the connection's thread, or elsewhere while that thread runs no job
    /// (`IOThread.withIsolationIfIdle`). A consumer on Swift's global executor then reads a batch without a trip
    /// into the connection and back, two hand-overs between threads. A call that finds no row waits for the socket
    /// from its own job too, and reads in place again. A call enters the connection, where it reads and waits, when
    /// the thread runs jobs, when its task is cancelled, once a cancel has been requested, after a wait that did not
    /// end with the socket ready (its deadline, a cancel, a close), and always when the I/O threads are the global
    /// executor and the caller is not on the connection's thread.
    ///
    /// Rows read before a failure are handed over first; the failure is thrown by the next call. Cancelling the
    /// task sends the server a cancel request; the call then throws ``TransportError/Code/cancelled``.
    ///
    /// - Parameters:
    ///   - maximumCount: The most rows to hand over at once; less than 1 reads as 1, more than 512 as 512.
    ///   - deadline: When reached while waiting, a cancel request is sent.
    /// - Throws: ``TransportError``; the statement is over when this throws.
    public nonisolated func nextRows(
        maximumCount: Int = 512,
        deadline: ContinuousClock.Instant? = nil
    ) async throws -> [QueryResult]? {
        // A cancelled task's call enters the connection, whose cancellation handler sends the cancel request at once.
        if Task.isCancelled { return try await nextRowsOnActor(maximumCount: maximumCount, deadline: deadline) }
        while true {
            let step = ioThread.isCurrent
                ? try nextRowsInPlace(maximumCount: maximumCount)
                : try ioThread.withIsolationIfIdle { try nextRowsInPlace(maximumCount: maximumCount) }
            switch step {
            case .rows(let rows)?:
                return rows
            case .mustWait(let registration)?:
                // Nothing more has arrived since the step read the socket: the task waits for it from its own job, as
                // a statement sent in place does, and reads again in place. A wait that ends otherwise (its deadline,
                // a cancel request, a close) goes on on the actor, which says why, as does a wait for the answer to a
                // cancel request, which has a grace period.
                let cancellation = self.cancellation
                if cancellation.isRequested {
                    return try await nextRowsOnActor(maximumCount: maximumCount, deadline: deadline)
                }
                let outcome = await withTaskCancellationHandler {
                    await ioThread.readiness.wait(
                        for: .readable, on: registration, deadline: deadline, prefersThread: ioThread.isCurrent,
                        isolation: nil
                    )
                } onCancel: {
                    cancellation.requestCancel(.task, for: registration)
                }
                if outcome != .ready {
                    return try await nextRowsOnActor(maximumCount: maximumCount, deadline: deadline)
                }
            case .onActor?, nil:
                return try await nextRowsOnActor(maximumCount: maximumCount, deadline: deadline)
            }
        }
    }

    /// Where a read of rows in the caller's job left the stream.
    enum RowsStep {
        /// What ``nextRows(maximumCount:deadline:)`` returns.
        case rows([QueryResult]?)
        /// No row has arrived since the socket was read: the call must wait for it to be readable.
        case mustWait(SocketReadiness.Registration)
        /// The connection was closed: the call goes on on the actor, which ends the statement.
        case onActor
    }

    /// ``nextRowsWithoutWaiting(maximumCount:)`` in the caller's job, as `startInPlace` runs its step: the caller is
    /// on the connection's thread, or holds its isolation (`IOThread.withIsolationIfIdle`). A global function isolated
    /// to the connection, called as a plain one, so that the reference needs no context on the heap.
    @inline(__always)
    private nonisolated func nextRowsInPlace(maximumCount: Int) throws -> RowsStep {
        typealias Step = (LibPQConnection, Int) throws -> RowsStep
        let step = unsafeBitCast(nextRowsIsolated as RowsReading, to: Step.self)
        return try step(self, maximumCount)
    }

    /// The next rows, read without waiting: `mustWait` when none has arrived and the statement is not over.
    func nextRowsWithoutWaiting(maximumCount: Int) throws -> RowsStep {
        guard let stream = try rowStreamToRead() else { return .rows(nil) }
        guard let connection else { return .onActor }
        var batch = QueryResult.RowBatch()
        var firstError = takePendingError()
        var hasReadSocket = false
        let read: RowsRead
        do {
            read = try readArrivedRows(
                connection, into: &batch, maximumCount: Self.batchRows(maximumCount), firstError: &firstError,
                hasReadSocket: &hasReadSocket
            )
            // Only a read that must wait leaves the server's error for the end of the statement, which a later call
            // reads.
            streaming?.pendingError = firstError
        } catch {
            do {
                try endRead(failingWith: error, firstError: firstError)
                read = .handOver
            } catch {
                endStreaming()
                throw error
            }
        }
        if read == .mustWait, batch.rowCount == 0 { return .mustWait(stream.registration) }
        return .rows(try handOver(&batch))
    }

    /// ``nextRows(maximumCount:deadline:)`` on the actor, which waits for the socket as long as no row has arrived.
    private func nextRowsOnActor(
        maximumCount: Int,
        deadline: ContinuousClock.Instant?
    ) async throws -> [QueryResult]? {
        guard let stream = try rowStreamToRead() else { return nil }
        guard let connection else {
            endStreaming()
            throw closedDuringStatement()
        }
        var batch = QueryResult.RowBatch()
        do {
            try await whileCancellable {
                try await readRows(
                    connection, into: &batch, maximumCount: Self.batchRows(maximumCount),
                    registration: stream.registration, deadline: deadline
                )
            }
        } catch {
            endStreaming()
            throw error
        }
        return try handOver(&batch)
    }

    /// The row stream still to be read; nil when there is none, or once it has ended, when its ending is taken (its
    /// failure thrown).
    private func rowStreamToRead() throws -> StreamingStatement? {
        guard let stream = streaming, stream.kind == .rows else { return nil }
        if let ending = stream.ending {
            _ = try takeEnding(ending)
            return nil
        }
        return stream
    }

    /// What a call returns once its read stopped: the batch's rows; without any, nil once the statement is over (its
    /// failure thrown), and no rows while it is not.
    private func handOver(_ batch: inout QueryResult.RowBatch) throws -> [QueryResult]? {
        if let rows = batch.takeResult() { return [rows] }
        guard let ending = streaming?.ending else { return [] }
        _ = try takeEnding(ending)
        return nil
    }

    /// The rows a call reads at most for a caller that asks for `maximumCount`.
    private static func batchRows(_ maximumCount: Int) -> Int {
        min(max(maximumCount, 1), rowBatchRows)
    }

    /// The bytes of values after which a batch of rows is handed over, however few its rows: with the last row's,
    /// they stay within the block a batch starts with (`RowBatch.initialByteCapacity`).
    static let rowBatchBytes = 56 * 1024
    /// The most rows a batch holds, whatever the caller asks: a call reads without yielding for up to a batch.
    ///
    /// A batch read on the actor costs a consumer elsewhere a hand-over to the I/O thread and back, two thread
    /// switches on one CPU, which larger batches spread over more rows.
    static let rowBatchRows = 512

    /// How a read of the rows that have arrived stopped.
    enum RowsRead {
        /// The batch is to be handed over: it is full, the socket brought no more rows, or the statement is over
        /// (its ending is set).
        case handOver
        /// No row can be handed over before the socket is readable: none was read, or the server's error was, and
        /// the statement's end has not arrived.
        case mustWait
    }

    /// Reads rows into `batch` until there are `maximumCount` (or ``rowBatchBytes``), until no more has arrived once
    /// there is one (reads of what the socket already holds go on while they bring rows), or until the last result,
    /// which sets the stream's ending; waits for the socket while none has arrived. Rows read before the server's
    /// error are handed over before the statement's end is read (`StreamingStatement.pendingError`
    /// keeps the error for the next call). A wait that fails after the server's error was read sets the ending to
    /// that error.
    private func readRows(
        _ connection: OpaquePointer,
        into batch: inout QueryResult.RowBatch,
        maximumCount: Int,
        registration: SocketReadiness.Registration,
        deadline: ContinuousClock.Instant?
    ) async throws {
        var firstError = takePendingError()
        var hasReadSocket = false
        do {
            while try readArrivedRows(
                connection, into: &batch, maximumCount: maximumCount, firstError: &firstError,
                hasReadSocket: &hasReadSocket
            ) == .mustWait {
                if batch.rowCount > 0 {
                    // Rows read before the server's error are handed over without waiting for the statement's end,
                    // as a read in the caller's job hands them over: the next call waits for it, and reports the
                    // error.
                    streaming?.pendingError = firstError
                    firstError = nil
                    return
                }
                try await waitForSocket(.readable, registration: registration, phase: .sent, deadline: deadline)
                hasReadSocket = false
            }
        } catch {
            try endRead(failingWith: error, firstError: firstError)
        }
    }

    /// Reads the rows that have arrived into `batch`, as ``readRows(_:into:maximumCount:registration:deadline:)`` does
    /// between its waits, without waiting: reads the socket once while no row is to be handed over
    /// (`hasReadSocket` says it was read since the last wait), and returns `mustWait` when that brought none.
    ///
    /// `firstError` is the server's error, the statement's first, once read: the rest is read up to the end, where
    /// it is reported. It is owned here until then, and the caller's after a `mustWait`; the ending takes it.
    private func readArrivedRows(
        _ connection: OpaquePointer,
        into batch: inout QueryResult.RowBatch,
        maximumCount: Int,
        firstError: inout OpaquePointer?,
        hasReadSocket: inout Bool
    ) throws -> RowsRead {
        // The rows the batch had at its last read of the socket.
        var rowsAtReadAhead = 0
        while true {
            // PQgetResult only blocks while PQisBusy says so; every row already read is taken before any wait.
            while PQisBusy(connection) == 0 {
                guard let result = PQgetResult(connection) else {
                    // Made before the assignment: `ending` reads the stream, which `streaming?.ending =` holds.
                    let ending = ending(connection, firstError: firstError, last: nil)
                    streaming?.ending = ending
                    firstError = nil
                    return .handOver
                }
                switch PQresultStatus(result) {
                case PGRES_SINGLE_TUPLE, PGRES_TUPLES_OK:
                    // Single-row mode ends the rows with an empty PGRES_TUPLES_OK.
                    guard PQntuples(result) > 0 else {
                        PQclear(result)
                        continue
                    }
                    batch.append(taking: result)
                    let isFull = batch.rowCount >= maximumCount || batch.byteCount >= Self.rowBatchBytes
                    if isFull, firstError == nil { return .handOver }
                case PGRES_FATAL_ERROR, PGRES_BAD_RESPONSE, PGRES_NONFATAL_ERROR:
                    // The first error is the cause; read on to the end, where it is reported.
                    if firstError == nil { firstError = result } else { PQclear(result) }
                case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
                    PQclear(result)
                    close()
                    throw TransportError(
                        code: .unsupportedResult,
                        message: "a COPY cannot be read as rows; the connection was closed",
                        host: host, port: port, phase: .sent, isConnectionUsable: false
                    )
                default:
                    // A statement without rows.
                    PQclear(result)
                }
            }
            if batch.rowCount > 0, firstError == nil {
                // What the socket already holds is read without waiting, while that brings rows: a batch is then
                // not handed over at the size of libpq's input buffer (about half a batch of small rows), and the
                // rows cost fewer hand-overs to the consumer.
                if batch.rowCount == rowsAtReadAhead { return .handOver }
                rowsAtReadAhead = batch.rowCount
            } else {
                if hasReadSocket { return .mustWait }
                hasReadSocket = true
            }
            if PQconsumeInput(connection) == 0, PQisBusy(connection) == 1 {
                let ending = ending(connection, firstError: firstError, last: nil)
                streaming?.ending = ending
                firstError = nil
                return .handOver
            }
        }
    }

    /// After a read of rows failed with `error`: the server's error, if it was read, is the cause, whatever then
    /// befell the wait for the statement's end, and becomes the stream's ending (the statement's end was not read,
    /// so the session cannot be reused); otherwise rethrows. Takes ownership of `firstError`.
    private func endRead(failingWith error: any Error, firstError: OpaquePointer?) throws {
        guard let firstError, streaming != nil else {
            firstError.map { PQclear($0) }
            throw error
        }
        let ending = failedEnding(firstError, isConnectionUsable: false)
        streaming?.ending = ending
    }

    /// The server's error that a read in the caller's job left for the statement's end; the caller owns it.
    private func takePendingError() -> OpaquePointer? {
        defer { streaming?.pendingError = nil }
        return streaming?.pendingError
    }
}

/// ``LibPQConnection/nextRowsWithoutWaiting(maximumCount:)`` as a global function isolated to the connection, which
/// ``LibPQConnection/nextRows(maximumCount:deadline:)`` calls in the caller's job.
private typealias RowsReading = (isolated LibPQConnection, Int) throws -> LibPQConnection.RowsStep

private func nextRowsIsolated(_ connection: isolated LibPQConnection, _ maximumCount: Int) throws
    -> LibPQConnection.RowsStep
{
    try connection.nextRowsWithoutWaiting(maximumCount: maximumCount)
}
