import PostgresPolicy
import PostgresTransport

extension DatabaseConnection {
    /// Runs a `COPY ... FROM STDIN` on this session, sending `chunks` as its data, and returns the server's answer.
    ///
    /// `startDeadline` bounds the start of the COPY; the data then flows as fast as the server takes it, with no
    /// deadline (cancel the task to stop it). When `chunks` throws, the COPY is failed on the server (nothing of it
    /// is applied) and the error is rethrown. A sequence that ends while the task is cancelled is taken as cut short
    /// by the cancellation (an `AsyncStream`'s iterator returns nil then), never as the end of the data: the COPY
    /// is failed on the server, so that a cancelled load never commits part of its rows. Once the task is
    /// cancelled, no further chunk is read.
    ///
    /// - Throws: the start's ``TransportError``, unchanged; ``AttemptInterrupted`` once data has flowed.
    func copy<Chunks: AsyncSequence>(
        _ query: PostgresQuery,
        from chunks: Chunks,
        startDeadline: ContinuousClock.Instant?,
        isolation: isolated (any Actor)? = #isolation
    ) async throws -> QueryResult where Chunks.Element == [UInt8] {
        try await startCopyIn(query.sql, parameters: query.parameters, deadline: startDeadline)
        do {
            for try await chunk in chunks where !chunk.isEmpty {
                // A producer that ignores cancellation is read no further once the task is cancelled.
                if Task.isCancelled { break }
                try await putCopyData(chunk, deadline: nil)
            }
        } catch let failure as TransportError {
            // Before the end of the data, the server applies nothing of the COPY.
            throw AttemptInterrupted(failure: failure, mayHaveBeenApplied: false)
        } catch {
            await stopStreaming()
            throw error
        }
        if Task.isCancelled {
            await stopStreaming()
            throw AttemptInterrupted(
                failure: TransportError(
                    code: .cancelled, message: "COPY cancelled before the end of its data was sent", host: host,
                    port: port, phase: .sent, isConnectionUsable: isReadyForReuse
                ),
                mayHaveBeenApplied: false
            )
        }
        do {
            return try await endCopyIn(deadline: nil)
        } catch let failure as TransportError {
            // The library's rule for any statement: an answer (a FATAL one too) says the COPY was rolled back;
            // only a session lost without one leaves its outcome unknown.
            throw AttemptInterrupted(
                failure: failure, mayHaveBeenApplied: FailureFacts(failure, inHotStandby: nil).mayHaveBeenApplied
            )
        }
    }
}

extension PostgresClient {
    /// Runs a `COPY ... FROM STDIN`, sending `chunks` as its data (text, CSV or binary, as the statement's `FORMAT`
    /// says), with back-pressure from the socket; returns the number of rows copied.
    ///
    /// ```swift
    /// let lines = AsyncStream<[UInt8]> { continuation in
    ///     continuation.yield(Array("1,apple\n2,pear\n".utf8))
    ///     continuation.finish()
    /// }
    /// let copied = try await client.copyIn("COPY fruit (id, name) FROM STDIN (FORMAT csv)", from: lines)
    /// ```
    /// The COPY is retried until the server accepts data (a session lost while it starts too, even under `.write`:
    /// nothing can have been applied), before the first chunk is read from `chunks`, which can then be read only
    /// once: a failure after that is not retried. A failure before the end of
    /// the data applies nothing; a session lost after it leaves the outcome unknown
    /// (``PostgresError/mayHaveBeenApplied``). To have a COPY run again whole after such failures, run it inside
    /// ``transaction(options:isolation:_:)`` with ``PostgresTransaction/copyIn(_:from:isolation:)``, building the chunks
    /// inside the block. `chunks` is read in the caller's isolation.
    ///
    /// - Throws: ``PostgresError``; or what `chunks` throws, after failing the COPY on the server.
    @discardableResult
    public func copyIn<Chunks: AsyncSequence>(
        _ query: PostgresQuery,
        from chunks: Chunks,
        options: OperationOptions = .write,
        isolation: isolated (any Actor)? = #isolation
    ) async throws -> Int where Chunks.Element == [UInt8] {
        // A failure once data flowed comes out of `copy` as `AttemptInterrupted`, which the loop gives up on. Before
        // that, a COPY FROM STDIN has applied nothing (the server applies it only at the end of its data) and no
        // chunk was read: its start is safe to run again, whatever `options` say. A COPY from a server-side file
        // keeps the options' rules.
        var safety = options.safety(isTransactionBlock: false)
        if CopyOptions.readsStandardInput(query.sql) { safety.isIdempotent = true }
        let completion = try await retrying(safety, isolation: isolation, verify: nil) { connection, _, deadline in
            try await connection.copy(query, from: chunks, startDeadline: ContinuousClock.Instant(deadline))
                .affectedRows ?? 0
        }
        guard case .completed(let copied) = completion else {
            preconditionFailure("an operation without verification cannot be verified applied")
        }
        return copied
    }

    /// Runs a `COPY ... FROM STDIN (FORMAT binary)`, sending `rows` in the binary COPY format; returns the number of
    /// rows copied. See ``copyIn(_:from:options:isolation:)`` for what is retried.
    ///
    /// ```swift
    /// let copied = try await client.copyIn(
    ///     "COPY items (id, name) FROM STDIN (FORMAT binary)",
    ///     rows: AsyncStream { continuation in
    ///         for id in 1...1_000 { continuation.yield([id, "item \(id)"]) }
    ///         continuation.finish()
    ///     }
    /// )
    /// ```
    ///
    /// - Throws: ``PostgresError``; or what `rows` or a value's encoding throws, after failing the COPY.
    @discardableResult
    public func copyIn<Rows: AsyncSequence>(
        _ query: PostgresQuery,
        rows: Rows,
        options: OperationOptions = .write,
        isolation: isolated (any Actor)? = #isolation
    ) async throws -> Int where Rows.Element == [any PostgresEncodable] {
        try await copyIn(query, from: PostgresCopyRows(rows), options: options, isolation: isolation)
    }
}

extension PostgresTransaction {
    /// Runs a `COPY ... FROM STDIN` inside the block, sending `chunks` as its data; returns the number of rows
    /// copied. Like any statement of the block, a failure makes the whole block run again when that is safe:
    /// build `chunks` inside the block, so that a new run sends them anew.
    ///
    /// - Throws: ``TransportError``; or what `chunks` throws, after failing the COPY (which fails the block).
    @discardableResult
    public func copyIn<Chunks: AsyncSequence>(
        _ query: PostgresQuery,
        from chunks: Chunks,
        isolation: isolated (any Actor)? = #isolation
    ) async throws -> Int where Chunks.Element == [UInt8] {
        do {
            let result = try await connection.copy(query, from: chunks, startDeadline: OperationDeadline.current)
            use.recordSuccess(result)
            return result.affectedRows ?? 0
        } catch let failure as TransportError {
            use.recordFailure(failure)
            throw failure
        } catch let interrupted as AttemptInterrupted {
            use.recordFailure(interrupted.failure)
            throw interrupted.failure
        }
    }

    /// Runs a `COPY ... FROM STDIN (FORMAT binary)` inside the block, sending `rows` in the binary COPY format.
    /// See ``copyIn(_:from:isolation:)``.
    @discardableResult
    public func copyIn<Rows: AsyncSequence>(
        _ query: PostgresQuery,
        rows: Rows,
        isolation: isolated (any Actor)? = #isolation
    ) async throws -> Int where Rows.Element == [any PostgresEncodable] {
        try await copyIn(query, from: PostgresCopyRows(rows), isolation: isolation)
    }
}
