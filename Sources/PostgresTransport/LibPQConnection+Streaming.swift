internal import CLibPQ
import PostgresPolicy

/// A statement that stays running across calls while its rows or its COPY data flow: started by
/// ``LibPQConnection/startRows(_:parameters:resultFormat:deadline:)``,
/// ``LibPQConnection/startCopyIn(_:parameters:deadline:)`` or ``LibPQConnection/startCopyOut(_:parameters:deadline:)``,
/// ended when its last result has been handed over, when it fails, or by ``LibPQConnection/stopStreaming()``.
///
/// While it runs the connection is busy: other statements fail with ``TransportError/Code/connectionBusy``, and
/// ``LibPQConnection/isIdleOutsideTransaction`` is false, so a pool never lends the session to anyone else.
struct StreamingStatement: @unchecked Sendable {
    // @unchecked Sendable: a connection's statement, reached only isolated to the connection, and by its deinit,
    // which alone holds it then; `pendingError` is the statement's alone, as any result it reads.
    enum Kind {
        case rows
        case copyIn
        case copyOut
    }

    /// How the statement ended, once its last result was read while rows or data read before it still wait to be
    /// handed over.
    enum Ending {
        case succeeded(QueryResult?)
        case failed(TransportError)
    }

    let kind: Kind
    /// The SQL sent, kept on the error the server answers it with.
    let statement: String
    /// The statement's waits on its socket, which a cancel request shortens.
    let registration: SocketReadiness.Registration
    /// Nil while results are still to come.
    var ending: Ending?
    /// The server's error, once a read of rows in the caller's job has read it and must wait for the statement's
    /// end: the next read takes it (`LibPQConnection.nextRows`); the statement's end clears it otherwise.
    var pendingError: OpaquePointer?
}

extension LibPQConnection {
    /// Stops the streaming statement, if one runs, and leaves the session idle, or closes it.
    ///
    /// Rows and COPY TO STDOUT are cancelled (`PQcancel`) and what the server still sends is read and dropped; a
    /// COPY FROM STDIN is failed (`PQputCopyEnd` with an error message), so that nothing of it is applied. A server
    /// that does not finish within the cancel grace period is treated as hung, and the connection is closed. Never
    /// throws, and ignores the task's cancellation: it is how a cancelled consumer gives the session back clean.
    public func stopStreaming() async {
        guard let stream = streaming else { return }
        guard stream.ending == nil, let connection else {
            endStreaming()
            return
        }
        // Past the grace period a silent server is cancelled, and past another the connection is closed, as it is
        // when the server still sends once the grace period has passed.
        let deadline = ContinuousClock.now.advanced(by: cancellation.grace)
        do {
            switch stream.kind {
            case .copyIn:
                while true {
                    let ended = PQputCopyEnd(connection, "COPY stopped by the client")
                    if ended != 0 { break }
                    try await waitForSocket(
                        .writable, registration: stream.registration, phase: .sent, deadline: deadline
                    )
                }
                try await flush(connection, registration: stream.registration, phase: .sent, deadline: deadline)
            case .rows, .copyOut:
                cancellation.requestCancel(.task)
            }
            if stream.kind == .copyOut {
                try await drainCopyData(connection, registration: stream.registration, deadline: deadline)
            }
            while let result = try await nextResult(connection, registration: stream.registration, deadline: deadline) {
                PQclear(result)
                try closeIfPast(deadline)
            }
        } catch {
            // The connection was closed during the wait; there is nothing left to read.
        }
        endStreaming()
    }

    /// Sends a statement to be streamed and claims the connection for it until it ends.
    ///
    /// - Throws: ``TransportError``; the statement is over when this throws.
    func startStreaming(
        _ kind: StreamingStatement.Kind,
        sql: String,
        parameters: [Parameter],
        resultFormat: ValueFormat,
        deadline: ContinuousClock.Instant?
    ) async throws {
        let connection = try await beginStatement(deadline: deadline)
        do {
            try checkParameters(parameters)
            let wasConnected = PQstatus(connection) == CONNECTION_OK
            // `withCString`: no copy of the text on the heap (see `execute`).
            let sent = sql.withCString { sql in
                ParameterBuffers.withBuffers(for: parameters) { count, types, values, lengths, formats in
                    PQsendQueryParams(connection, sql, count, types, values, lengths, formats, resultFormat.rawValue)
                }
            }
            guard sent == 1 else {
                throw sendFailure(connection, wasConnected: wasConnected, phaseIfSent: .sent)
            }
            if kind == .rows {
                // "This function can only be called immediately after PQsendQuery or one of its sibling functions,
                // before any other operation on the connection." It cannot fail there; were it refused, the rows
                // would come as one result, which `nextRows` hands over just the same.
                _ = PQsetSingleRowMode(connection)
            }
            let registration = cancellation.begin(descriptor: PQsocket(connection))
            streaming = StreamingStatement(kind: kind, statement: sql, registration: registration)
            try await whileCancellable {
                try await flush(connection, registration: registration, phase: .sent, deadline: deadline)
                if kind != .rows {
                    try await awaitCopyState(connection, registration: registration, deadline: deadline)
                }
            }
        } catch {
            endStreaming()
            throw error
        }
    }

    /// Waits for the COPY started by the statement to begin (`PGRES_COPY_IN`, `PGRES_COPY_OUT`).
    private func awaitCopyState(
        _ connection: OpaquePointer,
        registration: SocketReadiness.Registration,
        deadline: ContinuousClock.Instant?
    ) async throws {
        guard let result = try await nextResult(connection, registration: registration, deadline: deadline) else {
            throw ending(connection, firstError: nil, last: nil).failure ?? closedDuringStatement()
        }
        switch PQresultStatus(result) {
        case PGRES_COPY_IN, PGRES_COPY_OUT:
            PQclear(result)
        case PGRES_FATAL_ERROR, PGRES_BAD_RESPONSE, PGRES_NONFATAL_ERROR:
            try await drainResults(connection, registration: registration, deadline: deadline)
            throw ending(connection, firstError: result, last: nil).failure!
        default:
            PQclear(result)
            try await drainResults(connection, registration: registration, deadline: deadline)
            throw TransportError(
                code: .unsupportedResult, message: "the statement did not start a COPY",
                host: host, port: port, phase: .sent, isConnectionUsable: isUsable
            )
        }
    }

    /// Runs `body` under a cancellation handler that sends the server a cancel request for the streaming statement.
    func whileCancellable<Result>(_ body: () async throws -> Result) async throws -> Result {
        let cancellation = self.cancellation
        return try await withTaskCancellationHandler {
            try await body()
        } onCancel: {
            cancellation.requestCancel(.task)
        }
    }

    /// Sends what libpq holds of the request: "wait for the socket to be read-ready or write-ready. If it becomes
    /// write-ready, call PQflush again. If it becomes read-ready, call PQconsumeInput, then call PQflush again."
    func flush(
        _ connection: OpaquePointer,
        registration: SocketReadiness.Registration,
        phase: TransportError.Phase,
        deadline: ContinuousClock.Instant?
    ) async throws {
        while true {
            let flushed = PQflush(connection)
            if flushed == 0 { return }
            if flushed < 0 { throw lostConnection(connection, phase: phase) }
            try await waitForSocket(.readableOrWritable, registration: registration, phase: phase, deadline: deadline)
            _ = PQconsumeInput(connection)
        }
    }

    /// The next result of the statement, waiting for the socket as long as libpq says `PQgetResult` would block;
    /// nil once there are no more.
    func nextResult(
        _ connection: OpaquePointer,
        registration: SocketReadiness.Registration,
        deadline: ContinuousClock.Instant?
    ) async throws -> OpaquePointer? {
        var waits = false
        while PQisBusy(connection) == 1 {
            if waits {
                try await waitForSocket(.readable, registration: registration, phase: .sent, deadline: deadline)
            }
            waits = true
            if PQconsumeInput(connection) == 0, PQisBusy(connection) == 1 { return nil }
        }
        return PQgetResult(connection)
    }

    /// Reads and drops the results left, up to the end.
    func drainResults(
        _ connection: OpaquePointer,
        registration: SocketReadiness.Registration,
        deadline: ContinuousClock.Instant?
    ) async throws {
        while let result = try await nextResult(connection, registration: registration, deadline: deadline) {
            PQclear(result)
        }
    }

    /// Closes the connection, and throws, once `deadline` has passed: a server that keeps sending after a cancel
    /// request (lost, late, or sent to another server through a balancer) is not drained to the end of its data.
    private func closeIfPast(_ deadline: ContinuousClock.Instant?) throws {
        guard let deadline, ContinuousClock.now >= deadline else { return }
        close()
        throw TransportError(
            code: .connectionLost,
            message: "the server kept sending after the cancel request; the connection was closed",
            host: host, port: port, phase: .sent, isConnectionUsable: false
        )
    }

    /// Reads and drops the COPY TO STDOUT data left, up to the end of the COPY.
    private func drainCopyData(
        _ connection: OpaquePointer,
        registration: SocketReadiness.Registration,
        deadline: ContinuousClock.Instant?
    ) async throws {
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let count = PQgetCopyData(connection, &buffer, 1)
            if let buffer { PQfreemem(buffer) }
            if count < 0 { return }
            try closeIfPast(deadline)
            if count == 0 {
                try await waitForSocket(.readable, registration: registration, phase: .sent, deadline: deadline)
                // A failed connection would answer 0 for ever, its closed socket waking every wait: its results
                // say the rest.
                if PQconsumeInput(connection) == 0 { return }
            }
        }
    }

    /// Reads the results left, up to the end, into how the statement ended: the first error, or the last result.
    /// A wait that fails after an error was read ends the statement with that error. A COPY FROM STDIN answered
    /// `COPY n` before an error (a FATAL termination that came after it) succeeded: the server had completed it.
    func readEnding(
        _ connection: OpaquePointer,
        registration: SocketReadiness.Registration,
        deadline: ContinuousClock.Instant?
    ) async throws -> StreamingStatement.Ending {
        var firstError: OpaquePointer?
        var last: OpaquePointer?
        do {
            while let result = try await nextResult(connection, registration: registration, deadline: deadline) {
                switch PQresultStatus(result) {
                case PGRES_FATAL_ERROR, PGRES_BAD_RESPONSE, PGRES_NONFATAL_ERROR:
                    if firstError == nil { firstError = result } else { PQclear(result) }
                case PGRES_COMMAND_OK where firstError == nil && streaming?.kind == .copyIn:
                    // The COPY's own answer: whatever follows cannot undo it.
                    last.map { PQclear($0) }
                    _ = try? await drainResults(connection, registration: registration, deadline: deadline)
                    return .succeeded(QueryResult(taking: result))
                default:
                    last.map { PQclear($0) }
                    last = result
                }
            }
        } catch {
            last.map { PQclear($0) }
            // The server's error, once read, is the cause, whatever then befell the wait for the statement's end.
            // The statement's end was not read: the session cannot be reused.
            guard let firstError else { throw error }
            return failedEnding(firstError, isConnectionUsable: false)
        }
        return ending(connection, firstError: firstError, last: last)
    }

    /// How a statement whose results are all read ended; takes ownership of both results.
    func ending(
        _ connection: OpaquePointer,
        firstError: OpaquePointer?,
        last: OpaquePointer?
    ) -> StreamingStatement.Ending {
        let isUsable = Self.isUsable(connection)
        if let firstError {
            last.map { PQclear($0) }
            return failedEnding(firstError, isConnectionUsable: isUsable)
        }
        if !isUsable {
            // No result says why: the connection broke.
            last.map { PQclear($0) }
            var error = TransportError.fromConnectionMessage(
                connection, code: .connectionLost, phase: .sent, endpoint: endpoint, isConnectionUsable: false
            )
            explain(&error)
            return .failed(error)
        }
        return .succeeded(last.map { QueryResult(taking: $0) })
    }

    /// How a statement ended that failed with the server's error `firstError`; takes ownership of the result. Reads
    /// nothing of the connection, which a failed wait may have closed.
    func failedEnding(_ firstError: OpaquePointer, isConnectionUsable: Bool) -> StreamingStatement.Ending {
        defer { PQclear(firstError) }
        var error = TransportError.fromErrorResult(
            firstError, statement: streaming?.statement, phase: .sent, endpoint: endpoint,
            isConnectionUsable: isConnectionUsable
        )
        explain(&error)
        return .failed(error)
    }

    /// Hands over how the statement ended, once what was read before the end has been: ends the statement and
    /// returns its last result, or throws its failure.
    func takeEnding(_ ending: StreamingStatement.Ending) throws -> QueryResult? {
        endStreaming()
        switch ending {
        case .succeeded(let result): return result
        case .failed(let error): throw error
        }
    }

    /// Ends the streaming statement and frees the connection for the next one. A connection left in the middle of
    /// a statement (which no path here should leave) is closed rather than given back dirty.
    func endStreaming() {
        if let pendingError = streaming?.pendingError { PQclear(pendingError) }
        if streaming != nil { cancellation.end() }
        streaming = nil
        if let connection, PQtransactionStatus(connection) == PQTRANS_ACTIVE { close() }
        isRunningStatement = false
    }

    func lostConnection(_ connection: OpaquePointer, phase: TransportError.Phase) -> TransportError {
        var error = TransportError.fromConnectionMessage(
            connection, code: .connectionLost, phase: phase, endpoint: endpoint, isConnectionUsable: false
        )
        explain(&error)
        return error
    }

    /// The failure of a statement whose connection was closed while it ran (by ``close()``, in another job).
    func closedDuringStatement(phase: TransportError.Phase = .sent) -> TransportError {
        TransportError(
            code: .connectionClosed, message: "the connection was closed while the statement ran",
            host: host, port: port, phase: phase, isConnectionUsable: false
        )
    }
}

extension StreamingStatement.Ending {
    var failure: TransportError? {
        if case .failed(let error) = self { return error }
        return nil
    }
}
