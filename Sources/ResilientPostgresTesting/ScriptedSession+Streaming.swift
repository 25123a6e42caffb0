import PostgresTransport
import ResilientPostgres

/// A statement a scripted session streams: its rows or COPY data, how much of it has been handed over (or
/// received), and the interruption planned for it.
struct ScriptedStream {
    enum Kind { case rows, copyIn, copyOut }

    let kind: Kind
    let statement: RecordedStatement
    /// A row stream's answer, whose rows are handed over in batches.
    var result: QueryResult?
    /// A COPY TO STDOUT's data.
    var chunks: [[UInt8]] = []
    /// Rows or chunks handed over; chunks received, for a COPY FROM STDIN.
    var count = 0
    var interruption: (after: Int, fault: StatementFault)?
    /// A COPY FROM STDIN's place among ``ScriptedDatabase/copies``, and the command tag scripted for it.
    var copyIndex = 0
    var commandTag: String?
}

/// Row streams and COPY on a scripted session: answered from the script, interrupted as planned, with the session
/// busy from the start of the statement to its end.
extension ScriptedSession {
    func startRows(
        _ sql: String,
        parameters: [Parameter],
        resultFormat: ValueFormat,
        deadline: ContinuousClock.Instant?
    ) async throws {
        try await start(sql, parameters: parameters, deadline: deadline) { statement in
            ScriptedStream(
                kind: .rows, statement: statement, result: try await answer(statement, deadline: deadline),
                interruption: database.streams.takeInterruption(for: statement)
            )
        }
    }

    func nextRows(maximumCount: Int, deadline: ContinuousClock.Instant?) async throws -> [QueryResult]? {
        guard let current = stream.withLock({ $0 }), current.kind == .rows, let result = current.result else {
            return nil
        }
        var end = min(current.count + maximumCount, result.rowCount)
        if let interruption = current.interruption, interruption.after <= result.rowCount {
            if current.count == interruption.after {
                try await interrupt(current, with: interruption.fault, deadline: deadline)
                return try await nextRows(maximumCount: maximumCount, deadline: deadline)
            }
            end = min(end, interruption.after)
        }
        guard current.count < end else {
            endStream()
            return nil
        }
        let columns = (0..<result.columnCount).map {
            QueryResult.Column(name: result.columnName($0), type: result.columnType($0), format: result.columnFormat($0))
        }
        let rows = (current.count..<end).map { row in
            (0..<result.columnCount).map { column in result.bytes(row: row, column: column).map { Array($0) } }
        }
        stream.withLock { $0?.count = end }
        return [QueryResult.make(columns: columns, rows: rows, commandTag: "SELECT \(rows.count)")]
    }

    func startCopyIn(_ sql: String, parameters: [Parameter], deadline: ContinuousClock.Instant?) async throws {
        try await start(sql, parameters: parameters, deadline: deadline) { statement in
            try requireCopy(statement, direction: "FROM STDIN")
            if state.withLock({ $0.inHotStandby }) {
                throw StatementFault.readOnlyError(for: sql, host: host, port: port)
            }
            var commandTag: String?
            if let answer = database.scriptedAnswer(to: statement) {
                switch answer.content {
                case .result(_, _, let tag): commandTag = tag
                case .fault(let fault): try await meet(fault, statement, deadline: deadline)
                case .invalid(let reason): throw serverError("XX000", "invalid scripted answer: \(reason)", sql)
                }
            }
            return ScriptedStream(
                kind: .copyIn, statement: statement,
                interruption: database.streams.takeInterruption(for: statement),
                copyIndex: database.streams.beginCopy(statement), commandTag: commandTag
            )
        }
    }

    func putCopyData(_ chunk: [UInt8], deadline: ContinuousClock.Instant?) async throws {
        let current = try copyingIn()
        if let interruption = current.interruption, current.count == interruption.after {
            try await interrupt(current, with: interruption.fault, deadline: deadline)
        }
        database.streams.received(chunk, forCopy: current.copyIndex)
        stream.withLock { $0?.count += 1 }
    }

    func endCopyIn(deadline: ContinuousClock.Instant?) async throws -> QueryResult {
        let current = try copyingIn()
        if let interruption = current.interruption, current.count == interruption.after {
            try await interrupt(current, with: interruption.fault, deadline: deadline)
        }
        database.streams.completed(copy: current.copyIndex)
        let rows = database.streams.copies[current.copyIndex].rowCount
        endStream()
        return QueryResult.make(columns: [], rows: [], commandTag: current.commandTag ?? "COPY \(rows)")
    }

    func startCopyOut(_ sql: String, parameters: [Parameter], deadline: ContinuousClock.Instant?) async throws {
        try await start(sql, parameters: parameters, deadline: deadline) { statement in
            try requireCopy(statement, direction: "TO STDOUT")
            guard let chunks = database.streams.copyData(for: statement) else {
                database.recordUnscripted(statement)
                throw serverError("XX000", "no scripted data for this COPY", sql)
            }
            return ScriptedStream(
                kind: .copyOut, statement: statement, chunks: chunks,
                interruption: database.streams.takeInterruption(for: statement)
            )
        }
    }

    func nextCopyData(deadline: ContinuousClock.Instant?) async throws -> [UInt8]? {
        guard let current = stream.withLock({ $0 }), current.kind == .copyOut else { return nil }
        if let interruption = current.interruption, current.count == interruption.after,
           interruption.after <= current.chunks.count {
            try await interrupt(current, with: interruption.fault, deadline: deadline)
        }
        guard current.count < current.chunks.count else {
            endStream()
            return nil
        }
        stream.withLock { $0?.count += 1 }
        return current.chunks[current.count]
    }

    func stopStreaming() async {
        if stream.withLock({ $0 != nil }) { endStream() }
    }

    // MARK: - Internals

    /// Sends a streamed statement: records it, meets its planned fault, then starts the stream `make` returns.
    private func start(
        _ sql: String,
        parameters: [Parameter],
        deadline: ContinuousClock.Instant?,
        make: (RecordedStatement) async throws -> ScriptedStream
    ) async throws {
        try begin()
        let statement = database.plan.beginStatement(connection: number, host: host, sql: sql, parameters: parameters)
        do {
            if let fault = statement.fault {
                try await meet(fault, statement, deadline: deadline)
            }
            if state.withLock({ $0.transaction == .failed }) {
                throw serverError(
                    "25P02", "current transaction is aborted, commands ignored until end of transaction block", sql
                )
            }
            let started = try await make(statement)
            stream.withLock { $0 = started }
        } catch let error as TransportError {
            endStream(after: error, sql: sql)
            throw error
        }
    }

    /// Meets the stream's planned fault: a failure ends the stream and is thrown; a delay is waited out.
    private func interrupt(
        _ current: ScriptedStream,
        with fault: StatementFault,
        deadline: ContinuousClock.Instant?
    ) async throws {
        do {
            try await meet(fault, current.statement, deadline: deadline)
            stream.withLock { $0?.interruption = nil }
        } catch let error as TransportError {
            endStream(after: error, sql: current.statement.sql)
            throw error
        }
    }

    /// Ends the streamed statement, after `error` if it failed; the session is free again.
    private func endStream(after error: TransportError? = nil, sql: String = "") {
        if let error { settle(after: error, sql: sql) }
        stream.withLock { $0 = nil }
        state.withLock { $0.isRunning = false }
        database.plan.statementEnded()
    }

    private func copyingIn() throws -> ScriptedStream {
        guard let current = stream.withLock({ $0 }), current.kind == .copyIn else {
            throw TransportError(
                code: .connectionBusy, message: "no COPY FROM STDIN is in progress on this connection",
                host: host, port: port, phase: .notSent, isConnectionUsable: true
            )
        }
        return current
    }

    /// Refuses a statement that is not a COPY in `direction`, as the transport does.
    private func requireCopy(_ statement: RecordedStatement, direction: String) throws {
        let sql = statement.sql.uppercased()
        guard SQLKeyword.first(of: sql) == "COPY", sql.contains(direction) else {
            throw TransportError(
                code: .unsupportedResult, message: "the statement is not a COPY \(direction)",
                host: host, port: port, phase: .sent, isConnectionUsable: true, statement: statement.sql
            )
        }
    }
}
