internal import CLibPQ

extension LibPQConnection {
    /// How many commands are queued between two flushes, so that the server starts on a large batch while the rest
    /// is still being queued, and libpq's output buffer stays small.
    static let commandsPerFlush = 128

    /// Runs several statements in one round trip, in libpq's pipeline mode, as one transaction, and returns their
    /// results in order.
    ///
    /// The statements are sent one after another without waiting for answers, then one synchronization point
    /// (`PQpipelineSync`); they run in one implicit transaction that commits there. The first statement that fails
    /// aborts the rest, and nothing of the batch is committed. Inside a transaction block opened with `BEGIN`, the
    /// statements join it instead, and nothing commits until its `COMMIT`.
    ///
    /// Cancelling the calling task or reaching `deadline` sends the server a cancel request, as
    /// ``execute(_:parameters:resultFormat:deadline:)`` does; when that happens while statements of a large batch
    /// are still being sent, the rest is not sent, and unless the server answers the cancel, the connection is
    /// closed so that the part sent cannot commit.
    ///
    /// - Parameters:
    ///   - statements: The statements, each with its bound parameters. Transaction control (`BEGIN`, `COMMIT`,
    ///     `ROLLBACK`, ...) is refused: it would split the batch's one transaction.
    ///   - resultFormat: The wire format of every result's values.
    ///   - deadline: When reached, a cancel request is sent; if the server does not answer it within the grace
    ///     period, the connection is closed.
    /// - Throws: ``TransportError``, the batch's first failure, with ``TransportError/statementIndex`` set to the
    ///   statement it belongs to. Its phase is `notSent` when nothing was sent,
    ///   `sent` when the server answered that a statement failed (nothing was committed) or
    ///   the connection was lost before the synchronization point was sent, and
    ///   `commitInFlight` when the answer was lost after it was sent (the batch may have
    ///   committed), the implicit commit itself failed, or it committed only locally (a wait for a synchronous
    ///   standby cancelled).
    public func executeBatch(
        _ statements: [BatchStatement],
        resultFormat: ValueFormat = .text,
        deadline: ContinuousClock.Instant? = nil
    ) async throws -> [QueryResult] {
        let connection = try await beginStatement(deadline: deadline)
        defer { isRunningStatement = false }
        for (index, statement) in statements.enumerated() {
            try checkParameters(statement.parameters, statementIndex: index)
            if StatementText.isTransactionControl(statement.sql) {
                throw TransportError(
                    code: .invalidParameter,
                    message: "a batch runs as one transaction: it cannot begin or end transactions",
                    host: host, port: port, phase: .notSent, isConnectionUsable: true, statementIndex: index
                )
            }
        }
        guard !statements.isEmpty else { return [] }
        let progress = try await runPipeline(
            connection, PipelinePlan(statements: statements), resultFormat: resultFormat, deadline: deadline
        )
        if let error = pipelineFailure(progress, statement: { ($0, statements[$0].sql) }) {
            throw error
        }
        if let error = committedLocallyOnly() { throw error }
        return try statements.indices.map { index in
            guard let result = progress.takeResult(index) else {
                throw TransportError(
                    code: .unsupportedResult, message: "the server sent no result for the statement",
                    host: host, port: port, phase: .sent, isConnectionUsable: self.isUsable, statementIndex: index
                )
            }
            return result
        }
    }

    // MARK: - Pipeline machinery

    /// Enters pipeline mode, queues the commands of `plan` while reading their answers, and leaves pipeline mode.
    ///
    /// Failures that the server or libpq answered for a command are kept in the returned progress (see
    /// ``pipelineFailure(_:statementIndex:)``); those that end the pipeline early (nothing could be sent, a cancel
    /// request unanswered, a result a pipeline cannot carry) are thrown, with the connection closed whenever part of
    /// an implicit transaction might otherwise commit.
    func runPipeline(
        _ connection: OpaquePointer,
        _ plan: PipelinePlan,
        resultFormat: ValueFormat,
        deadline: ContinuousClock.Instant?
    ) async throws -> PipelineProgress {
        let transactionStatus = PQtransactionStatus(connection)
        let startedInTransactionBlock = transactionStatus == PQTRANS_INTRANS || transactionStatus == PQTRANS_INERROR
        // libpq refuses only a connection that is not idle; a broken one is found out by the first send.
        guard PQenterPipelineMode(connection) == 1 else {
            throw TransportError.fromConnectionMessage(
                connection, code: .server, phase: .notSent, endpoint: endpoint,
                isConnectionUsable: Self.isUsable(connection)
            )
        }
        let registration = cancellation.begin(descriptor: PQsocket(connection))
        defer { cancellation.end() }
        let cancellation = self.cancellation
        let progress = try await withTaskCancellationHandler {
            let progress = PipelineProgress(plan: plan, startedInTransactionBlock: startedInTransactionBlock)
            try await pump(
                connection, progress, registration: registration, resultFormat: resultFormat, deadline: deadline
            )
            return progress
        } onCancel: {
            cancellation.requestCancel(.task)
        }
        guard PQstatus(connection) == CONNECTION_OK else { return progress }
        // "PQexitPipelineMode ... fails if there are any pending results or the pipeline is busy."
        if !progress.isFinished || PQexitPipelineMode(connection) != 1 {
            let message = String(cString: PQerrorMessage(connection)).trimmingTrailingWhitespace()
            close()
            throw TransportError(
                code: .connectionLost,
                message: "the pipeline did not end cleanly (\(message)); the connection was closed",
                host: host, port: port, phase: progress.phaseIfLost, isConnectionUsable: false
            )
        }
        return progress
    }

    /// The failure a finished pipeline reports, if any: the first error result, or the lost connection.
    ///
    /// `statement` names the caller's statement a command runs: its position in a batch (if any) and its SQL, or
    /// nil for a command of the connection's own.
    func pipelineFailure(
        _ progress: PipelineProgress,
        statement: (Int) -> (index: Int?, sql: String)?
    ) -> TransportError? {
        let isUsable = connection.map(Self.isUsable) ?? false
        if let (command, result) = progress.firstError {
            let failed = command.flatMap(statement)
            var error = TransportError.fromErrorResult(
                result, statement: failed?.sql, phase: .sent, endpoint: endpoint, isConnectionUsable: isUsable
            )
            error.phase = progress.phaseOfFirstError(hasSQLState: error.sqlState != nil)
            error.statementIndex = failed?.index
            explain(&error)
            return error
        }
        guard progress.isBroken || !progress.isFinished else { return nil }
        var error = connection.map {
            TransportError.fromConnectionMessage(
                $0, code: .connectionLost, phase: progress.phaseIfLost, endpoint: endpoint, isConnectionUsable: isUsable
            )
        } ?? TransportError(code: .connectionLost, message: "the connection was lost", host: host, port: port,
                            phase: progress.phaseIfLost, isConnectionUsable: false)
        explain(&error)
        return error
    }

    /// Queues commands and reads answers until every answer is in or the pipeline must end.
    ///
    /// "To avoid deadlocks on large pipelines the client should be structured around a non-blocking event loop":
    /// while the server's answers fill the socket one way, the rest of the batch may fill it the other way, so the
    /// loop waits for the socket to be readable or writable, reads what came in, and flushes again.
    private func pump(
        _ connection: OpaquePointer,
        _ progress: PipelineProgress,
        registration: SocketReadiness.Registration,
        resultFormat: ValueFormat,
        deadline: ContinuousClock.Instant?
    ) async throws {
        var outputPending = false
        while true {
            if !outputPending {
                try queueCommands(connection, progress, resultFormat: resultFormat, deadline: deadline)
            }
            // "PQflush returns 0 if successful, 1 if it was unable to send all the data in the send queue yet,
            // or -1 if it failed for some reason."
            let flushed = PQflush(connection)
            outputPending = flushed == 1
            _ = PQconsumeInput(connection)  // a failure shows in PQstatus and in the next PQgetResult
            progress.readAvailableResults(from: connection)
            if progress.sawUnsupportedResult {
                close()
                throw TransportError(
                    code: .unsupportedResult, message: "COPY is not supported here; the connection was closed",
                    host: host, port: port, phase: progress.phaseIfLost, isConnectionUsable: false
                )
            }
            if progress.isBroken || progress.isFinished { return }
            if flushed < 0 {
                // Unable to write although the connection looks fine: nothing more can be trusted to arrive.
                throw abandon(progress, code: .connectionLost, message: "could not send the batch")
            }
            if progress.stopsQueueing, progress.isAnswered, !outputPending {
                // Queueing stopped and everything sent was answered without error.
                if progress.endsWithSync {
                    progress.skipRemainingCommands()
                    return
                }
                guard let request = cancellation.request else { return }  // a failed send: reported as lost
                let code: TransportError.Code = request.reason == .task ? .cancelled : .deadlineExceeded
                if progress.isEmpty {
                    _ = PQexitPipelineMode(connection)
                    throw TransportError(code: code, message: "stopped before the batch was sent", host: host,
                                         port: port, phase: .notSent, isConnectionUsable: Self.isUsable(connection))
                }
                throw abandon(
                    progress, code: code,
                    message: "stopped before the whole batch was sent; the connection was closed, so nothing of it "
                        + "was committed"
                )
            }
            if !outputPending, progress.hasCommandsToQueue { continue }
            try await waitForSocket(
                outputPending ? .readableOrWritable : .readable,
                registration: registration, phase: progress.phaseIfLost, deadline: deadline
            )
        }
    }

    /// Queues up to ``commandsPerFlush`` planned commands; stops queueing statements once a cancel was requested
    /// or the deadline passed (the sync that ends a fully queued transaction is still sent).
    private func queueCommands(
        _ connection: OpaquePointer,
        _ progress: PipelineProgress,
        resultFormat: ValueFormat,
        deadline: ContinuousClock.Instant?
    ) throws {
        guard progress.hasCommandsToQueue else { return }
        if !progress.nextIsSync {
            if let deadline, ContinuousClock.now >= deadline {
                cancellation.requestCancel(.deadline)
            }
            if cancellation.request != nil {
                progress.stopsQueueing = true
                return
            }
        }
        for _ in 0..<Self.commandsPerFlush {
            guard progress.hasCommandsToQueue else { return }
            let wasConnected = PQstatus(connection) == CONNECTION_OK
            guard progress.queueNext(on: connection, resultFormat: resultFormat) else {
                try queueFailure(connection, progress, wasConnected: wasConnected)
                return
            }
        }
    }

    /// A command libpq refused to queue. Before anything was queued, the pipeline ends as ``execute`` would on a
    /// failed send. Later, a broken connection is left for the reads to report; a connection still fine is closed,
    /// so that the part already sent cannot commit.
    private func queueFailure(_ connection: OpaquePointer, _ progress: PipelineProgress, wasConnected: Bool) throws {
        let isConnected = PQstatus(connection) == CONNECTION_OK
        if progress.isEmpty {
            let error = sendFailure(connection, wasConnected: wasConnected, phaseIfSent: .sent)
            if isConnected { _ = PQexitPipelineMode(connection) }
            throw error
        }
        progress.stopsQueueing = true
        if isConnected {
            let message = String(cString: PQerrorMessage(connection)).trimmingTrailingWhitespace()
            throw abandon(progress, code: .connectionLost, message: message.isEmpty ? "could not queue a statement" : message)
        }
    }

    /// Closes the connection in the middle of a pipeline, so that the server rolls back what it got of it.
    private func abandon(_ progress: PipelineProgress, code: TransportError.Code, message: String) -> TransportError {
        close()
        return TransportError(
            code: code, message: message, host: host, port: port, phase: progress.phaseIfLost, isConnectionUsable: false
        )
    }
}
