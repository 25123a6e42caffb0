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
    /// Rows read before a failure are handed over first; the failure is thrown by the next call. Cancelling the
    /// task sends the server a cancel request; the call then throws ``TransportError/Code/cancelled``.
    ///
    /// - Parameters:
    ///   - maximumCount: The most rows to hand over at once; less than 1 reads as 1, more than 512 as 512.
    ///   - deadline: When reached while waiting, a cancel request is sent.
    /// - Throws: ``TransportError``; the statement is over when this throws.
    public func nextRows(
        maximumCount: Int = 512,
        deadline: ContinuousClock.Instant? = nil
    ) async throws -> [QueryResult]? {
        guard let stream = streaming, stream.kind == .rows else { return nil }
        if let ending = stream.ending {
            _ = try takeEnding(ending)
            return nil
        }
        guard let connection else {
            endStreaming()
            throw closedDuringStatement()
        }
        var batch = QueryResult.RowBatch()
        do {
            try await whileCancellable {
                try await readRows(
                    connection, into: &batch, maximumCount: min(max(maximumCount, 1), Self.rowBatchRows),
                    registration: stream.registration, deadline: deadline
                )
            }
        } catch {
            endStreaming()
            throw error
        }
        guard let rows = batch.takeResult() else {
            guard let ending = streaming?.ending else { return [] }
            _ = try takeEnding(ending)
            return nil
        }
        return [rows]
    }

    /// The bytes of values after which a batch of rows is handed over, however few its rows: with the last row's,
    /// they stay within the block a batch starts with (`RowBatch.initialByteCapacity`).
    static let rowBatchBytes = 56 * 1024
    /// The most rows a batch holds, whatever the caller asks: a call reads without yielding for up to a batch.
    ///
    /// Each batch costs a hand-over to the I/O thread and back, two thread switches on one CPU, which larger
    /// batches spread over more rows.
    static let rowBatchRows = 512

    /// Reads rows into `batch` until there are `maximumCount` (or ``rowBatchBytes``), until no more has arrived once
    /// there is one (reads of what the socket already holds go on while they bring rows), or until the last result,
    /// which sets the stream's ending. A wait that fails after the server's error was read sets the ending to that
    /// error.
    private func readRows(
        _ connection: OpaquePointer,
        into batch: inout QueryResult.RowBatch,
        maximumCount: Int,
        registration: SocketReadiness.Registration,
        deadline: ContinuousClock.Instant?
    ) async throws {
        var firstError: OpaquePointer?
        var waits = false
        // The rows the batch had at its last read without waiting.
        var rowsAtReadAhead = 0
        do {
            while true {
                // PQgetResult only blocks while PQisBusy says so; every row already read is taken before any wait.
                while PQisBusy(connection) == 0 {
                    guard let result = PQgetResult(connection) else {
                        let ending = ending(connection, firstError: firstError, last: nil)
                        streaming?.ending = ending
                        return
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
                        if isFull, firstError == nil { return }
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
                    if batch.rowCount == rowsAtReadAhead { return }
                    rowsAtReadAhead = batch.rowCount
                } else {
                    if waits {
                        try await waitForSocket(.readable, registration: registration, phase: .sent, deadline: deadline)
                    }
                    waits = true
                }
                if PQconsumeInput(connection) == 0, PQisBusy(connection) == 1 {
                    let ending = ending(connection, firstError: firstError, last: nil)
                    streaming?.ending = ending
                    return
                }
            }
        } catch {
            // The server's error, once read, is the cause, whatever then befell the wait for the statement's end.
            // The statement's end was not read: the session cannot be reused.
            guard let firstError, streaming != nil else {
                firstError.map { PQclear($0) }
                throw error
            }
            streaming?.ending = failedEnding(firstError, isConnectionUsable: false)
        }
    }
}
