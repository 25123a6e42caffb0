internal import CLibPQ

extension LibPQConnection {
    /// The size a chunk of COPY TO STDOUT data grows to before ``nextCopyData(deadline:)`` hands it over.
    static let copyChunkSize = 64 * 1024

    /// Sends a `COPY ... FROM STDIN` and waits for the server to accept data, which ``putCopyData(_:deadline:)``
    /// then sends and ``endCopyIn(deadline:)`` completes.
    ///
    /// - Throws: ``TransportError`` (``TransportError/Code/unsupportedResult`` when the statement is not a COPY
    ///   FROM STDIN); the statement is over when this throws.
    public func startCopyIn(
        _ sql: String,
        parameters: [Parameter] = [],
        deadline: ContinuousClock.Instant? = nil
    ) async throws {
        try await startStreaming(.copyIn, sql: sql, parameters: parameters, resultFormat: .text, deadline: deadline)
    }

    /// Sends one chunk of COPY data, returning once libpq has handed all it holds to the socket: the socket's own
    /// back-pressure bounds what is buffered to about one chunk, however fast the chunks come.
    ///
    /// - Throws: ``TransportError``; the statement is over when this throws. A server that refused the data (a
    ///   malformed row, a constraint) answers with its error here or at ``endCopyIn(deadline:)``.
    public func putCopyData(_ chunk: [UInt8], deadline: ContinuousClock.Instant? = nil) async throws {
        guard let stream = streaming, stream.kind == .copyIn, stream.ending == nil else {
            throw notCopying("FROM STDIN")
        }
        guard let connection else {
            endStreaming()
            throw closedDuringStatement()
        }
        do {
            try await whileCancellable {
                while true {
                    let put = chunk.withUnsafeBufferPointer { buffer in
                        buffer.withMemoryRebound(to: CChar.self) {
                            PQputCopyData(connection, $0.baseAddress, Int32($0.count))
                        }
                    }
                    if put == 1 { break }
                    if put < 0 {
                        // No COPY in progress any more: the server answered with an error, which the results say.
                        throw try await refusal(connection, registration: stream.registration, deadline: deadline)
                    }
                    // "The data could not be queued because of full buffers": wait until the socket takes more.
                    try await waitForSocket(
                        .readableOrWritable, registration: stream.registration, phase: .sent, deadline: deadline
                    )
                    _ = PQconsumeInput(connection)
                }
                try await flush(connection, registration: stream.registration, phase: .sent, deadline: deadline)
            }
        } catch {
            endStreaming()
            throw error
        }
    }

    /// Ends the data of the COPY FROM STDIN (`PQputCopyEnd`) and returns the server's answer, whose
    /// ``QueryResult/affectedRows`` is the number of rows copied.
    ///
    /// - Throws: ``TransportError``. A connection lost here leaves the COPY's outcome unknown: the server may have
    ///   applied it before its answer was lost.
    public func endCopyIn(deadline: ContinuousClock.Instant? = nil) async throws -> QueryResult {
        guard let stream = streaming, stream.kind == .copyIn, stream.ending == nil else {
            throw notCopying("FROM STDIN")
        }
        guard let connection else {
            endStreaming()
            throw closedDuringStatement()
        }
        let ending: StreamingStatement.Ending
        do {
            ending = try await whileCancellable { () async throws -> StreamingStatement.Ending in
                while true {
                    let ended = PQputCopyEnd(connection, nil)
                    if ended == 1 { break }
                    if ended < 0 {
                        return .failed(
                            try await refusal(connection, registration: stream.registration, deadline: deadline)
                        )
                    }
                    try await waitForSocket(
                        .writable, registration: stream.registration, phase: .sent, deadline: deadline
                    )
                }
                try await flush(connection, registration: stream.registration, phase: .sent, deadline: deadline)
                return try await readEnding(connection, registration: stream.registration, deadline: deadline)
            }
        } catch {
            endStreaming()
            throw error
        }
        guard let result = try takeEnding(ending) else { throw lostConnection(connection, phase: .sent) }
        return result
    }

    /// Sends a `COPY ... TO STDOUT` and waits for its data to start, which ``nextCopyData(deadline:)`` then reads.
    ///
    /// - Throws: ``TransportError`` (``TransportError/Code/unsupportedResult`` when the statement is not a COPY TO
    ///   STDOUT); the statement is over when this throws.
    public func startCopyOut(
        _ sql: String,
        parameters: [Parameter] = [],
        deadline: ContinuousClock.Instant? = nil
    ) async throws {
        try await startStreaming(.copyOut, sql: sql, parameters: parameters, resultFormat: .text, deadline: deadline)
    }

    /// The next chunk of COPY TO STDOUT data: the data rows that have arrived, up to about 64 KiB, waiting only
    /// when none has; nil once all have been handed over, which ends the statement.
    ///
    /// Data read before a failure is handed over first; the failure is thrown by the next call.
    ///
    /// - Throws: ``TransportError``; the statement is over when this throws.
    public func nextCopyData(deadline: ContinuousClock.Instant? = nil) async throws -> [UInt8]? {
        guard let stream = streaming, stream.kind == .copyOut else { return nil }
        if let ending = stream.ending {
            _ = try takeEnding(ending)
            return nil
        }
        guard let connection else {
            endStreaming()
            throw closedDuringStatement()
        }
        var chunk: [UInt8] = []
        do {
            try await whileCancellable {
                var waits = false
                var inputFailed = false
                while true {
                    var buffer: UnsafeMutablePointer<CChar>?
                    // Asynchronous: 0 means no complete data row has arrived yet.
                    let count = PQgetCopyData(connection, &buffer, 1)
                    if let buffer {
                        chunk.append(contentsOf: UnsafeRawBufferPointer(start: buffer, count: Int(max(count, 0))))
                        PQfreemem(buffer)
                    }
                    if count > 0 {
                        if chunk.count >= Self.copyChunkSize { return }
                        continue
                    }
                    if count < 0 {
                        // -1: the COPY is over; -2: it failed. The results say how.
                        let ending = try await readEnding(
                            connection, registration: stream.registration, deadline: deadline
                        )
                        streaming?.ending = ending
                        return
                    }
                    if !chunk.isEmpty { return }
                    if inputFailed {
                        // The connection failed and no data row is left: PQgetCopyData would answer 0 (no row yet)
                        // for ever, and the closed socket wake every wait. The results say how it ended ("if the
                        // server connection has been lost ... return a PGRES_FATAL_ERROR result").
                        let ending = try await readEnding(
                            connection, registration: stream.registration, deadline: deadline
                        )
                        streaming?.ending = ending
                        return
                    }
                    if waits {
                        try await waitForSocket(
                            .readable, registration: stream.registration, phase: .sent, deadline: deadline
                        )
                    }
                    waits = true
                    inputFailed = PQconsumeInput(connection) == 0
                }
            }
        } catch {
            endStreaming()
            throw error
        }
        if chunk.isEmpty, let ending = streaming?.ending {
            _ = try takeEnding(ending)
            return nil
        }
        return chunk
    }

    /// The error that ended a COPY FROM STDIN early, read from the results left.
    private func refusal(
        _ connection: OpaquePointer,
        registration: SocketReadiness.Registration,
        deadline: ContinuousClock.Instant?
    ) async throws -> TransportError {
        let ending = try await readEnding(connection, registration: registration, deadline: deadline)
        return ending.failure ?? lostConnection(connection, phase: .sent)
    }

    private func notCopying(_ direction: String) -> TransportError {
        TransportError(
            code: .connectionBusy, message: "no COPY \(direction) is in progress on this connection",
            host: host, port: port, phase: .notSent, isConnectionUsable: isUsable
        )
    }
}
