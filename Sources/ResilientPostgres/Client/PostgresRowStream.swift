import PostgresTransport
import Synchronization

/// The rows of a statement as they arrive from the server, read in libpq's single-row mode: memory holds one batch
/// of rows at a time, whatever the number of rows. Returned by ``PostgresClient/rows(_:options:)``.
///
/// The stream holds its pooled session until it ends: iterate it promptly, and do not hold it across slow work
/// (the pool counts the session as lent all that time). Breaking out of the loop, or cancelling the task, stops the
/// statement on the server and gives the session back, even while the stream value itself is kept: its iterator
/// alone holds the session. It can be iterated once.
///
/// A row is valid for as long as the app holds it, after the stream has moved on or ended: it keeps alive the copy of
/// its batch's values, not the session. A batch ends at 512 rows or once its values pass 56 KiB, so the copy holds
/// up to 56 KiB plus one row's values and 8 bytes a value, and all of a single row larger than that. Keep the decoded
/// values rather than the rows when collecting many, so that memory holds what the app needs rather than whole batches.
///
/// A failure after rows were handed over is not retried: the iteration throws a ``PostgresError`` whose
/// ``PostgresError/rowsDelivered`` says how many rows came before it, none of them twice. Resume after the last
/// one's key (see <doc:LargeResultsAndBulkLoads>).
public struct PostgresRowStream: AsyncSequence, Sendable {
    /// A row.
    public typealias Element = PostgresRow

    /// The most rows handed from the session's thread to the consumer at once.
    static let batchSize = 512

    final class Source: Sendable {
        /// The session, handed to the one iterator, which alone holds it from then on: the end of the loop stops
        /// the statement even while the stream value is kept. Nil once the statement has ended (a result of no more
        /// rows than the first batch).
        let session: Mutex<StreamSession?>
        let client: PostgresClient
        let isReadOnly: Bool
        /// The rows read before the stream was returned, taken by its one iterator.
        let first: Mutex<[QueryResult]?>

        init(session: StreamSession?, client: PostgresClient, first: [QueryResult], isReadOnly: Bool) {
            self.session = Mutex(session)
            self.client = client
            self.isReadOnly = isReadOnly
            self.first = Mutex(first)
        }
    }

    let source: Source

    /// The stream's iterator; there can be only one.
    public func makeAsyncIterator() -> AsyncIterator {
        guard let first = source.first.withLock({ $0.take() }) else {
            preconditionFailure("a PostgresRowStream can be iterated only once")
        }
        return AsyncIterator(source: source, session: source.session.withLock { $0.take() }, batch: first)
    }

    /// Hands over the rows of a batch, then reads the next batch from the session.
    ///
    /// A row of the batch at hand is handed over by code inlined into the caller's loop, which neither suspends
    /// nor switches executors; only the end of a batch calls into the stream, which takes every row libpq has
    /// already read (up to the stream's batch size) and waits on the socket only when there is none.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let source: Source
        /// The session; the iterator alone holds it, so that dropping the iterator stops the statement.
        let session: StreamSession?
        /// The results of the batch at hand still to be handed over after ``rows``.
        var batch: [QueryResult]
        /// The rows of the result being handed over, the next one's index, and their count.
        @usableFromInline var rows: PostgresRows?
        @usableFromInline var rowIndex = 0
        @usableFromInline var rowCount = 0
        /// The rows of the results handed over before ``rows``.
        var deliveredBefore = 0
        var isFinished = false

        init(source: Source, session: StreamSession?, batch: [QueryResult]) {
            self.source = source
            self.session = session
            self.batch = batch
        }

        /// The next row, or nil after the last.
        ///
        /// - Throws: ``PostgresError``, with ``PostgresError/rowsDelivered``, when the statement fails.
        public mutating func next() async throws -> PostgresRow? {
            try await next(isolation: nil)
        }

        /// The next row, or nil after the last, read in the caller's isolation: a row of the batch at hand is
        /// handed over without a suspension or a switch of executors.
        ///
        /// - Throws: ``PostgresError``, with ``PostgresError/rowsDelivered``, when the statement fails.
        @inlinable
        public mutating func next(isolation actor: isolated (any Actor)?) async throws -> PostgresRow? {
            if rowIndex < rowCount, let rows {
                defer { rowIndex += 1 }
                return rows[rowIndex]
            }
            return try await nextBatch(isolation: actor)
        }

        /// The first row of the next result of the batch, or of the next batch read from the session; nil after
        /// the last.
        @usableFromInline
        mutating func nextBatch(isolation actor: isolated (any Actor)?) async throws -> PostgresRow? {
            deliveredBefore += rowCount
            // Rows handed over are the consumer's to keep; the stream keeps none of them.
            rows = nil
            rowIndex = 0
            rowCount = 0
            while true {
                if !batch.isEmpty {
                    let result = batch.removeFirst()
                    guard result.rowCount > 0 else { continue }
                    let next = PostgresRows(result)
                    rows = next
                    rowCount = result.rowCount
                    rowIndex = 1
                    return next[0]
                }
                guard !isFinished, let session else { return nil }
                if Task.isCancelled { throw await stopCancelled(session, isolation: actor) }
                do {
                    guard let next = try await session.connection.nextRows(
                        maximumCount: PostgresRowStream.batchSize, deadline: nil
                    ) else {
                        isFinished = true
                        await session.end(reuse: true)
                        return nil
                    }
                    batch = next
                } catch let failure as TransportError {
                    isFinished = true
                    await session.end(reuse: failure.isConnectionUsable)
                    throw source.client.interruptedStream(
                        by: failure, delivered: deliveredBefore,
                        mayHaveBeenApplied: !source.isReadOnly && !failure.isConnectionUsable,
                        startedAt: session.start, earlierAttempts: session.earlierAttempts
                    )
                }
            }
        }

        /// Stops the statement of a consumer whose task is cancelled, at the end of the batch at hand rather than
        /// after every row the session has already read, and returns the error the stream ends with.
        private mutating func stopCancelled(
            _ session: StreamSession, isolation actor: isolated (any Actor)?
        ) async -> PostgresError {
            isFinished = true
            let connection = session.connection
            await connection.stopStreaming()
            let isUsable = connection.isReadyForReuse
            await session.end(reuse: isUsable)
            let failure = TransportError(
                code: .cancelled, message: "the row stream's task was cancelled", host: connection.host,
                port: connection.port, phase: .sent, isConnectionUsable: isUsable
            )
            return source.client.interruptedStream(
                by: failure, delivered: deliveredBefore, mayHaveBeenApplied: !source.isReadOnly && !isUsable,
                startedAt: session.start, earlierAttempts: session.earlierAttempts
            )
        }
    }
}

extension PostgresClient {
    /// Runs one statement and returns its rows as a stream, read as they arrive in constant memory.
    ///
    /// ```swift
    /// for try await row in try await client.rows("SELECT id, name FROM users", options: .readOnly) {
    ///     let (id, name) = try row.decode((Int, String).self)
    ///     print(id, name)
    /// }
    /// ```
    /// The statement is retried as `options` allow until its first rows have arrived, before any reaches the
    /// caller; a failure after that ends the stream with a ``PostgresError`` that says how many rows were
    /// delivered (``PostgresError/rowsDelivered``), and is not retried. The operation's deadline bounds the wait for
    /// the first rows; after that, the stream waits for the server as long as it takes (cancel the task to stop).
    ///
    /// - Throws: ``PostgresError`` once retrying is no longer safe or useful.
    public func rows(_ query: PostgresQuery, options: OperationOptions = .write) async throws -> PostgresRowStream {
        let (session, first) = try await openStream(options) { connection, deadline in
            try await connection.startRows(
                query.sql, parameters: query.parameters, resultFormat: .binary, deadline: deadline
            )
            return try await connection.nextRows(maximumCount: PostgresRowStream.batchSize, deadline: deadline)
        }
        guard let first else {
            // No rows: the statement is over already.
            await session.end(reuse: true)
            return PostgresRowStream(source: .init(session: nil, client: self, first: [], isReadOnly: true))
        }
        return PostgresRowStream(
            source: .init(session: session, client: self, first: first, isReadOnly: options.isReadOnly)
        )
    }
}
