import PostgresTransport
import Synchronization

/// The data of a `COPY ... TO STDOUT`, as chunks of bytes in the statement's format (text, CSV or binary), read as
/// they arrive: memory holds one chunk (about 64 KiB) at a time. Returned by
/// ``PostgresClient/copyOut(_:options:)``.
///
/// Each chunk holds whole data rows: one never ends inside a row. The stream holds its pooled session until it
/// ends, as a ``PostgresRowStream`` does, and stops the COPY on the server when the consumer breaks out of its loop
/// or is cancelled. It can be iterated once.
///
/// A failure after chunks were handed over is not retried: the iteration throws a ``PostgresError`` whose
/// ``PostgresError/rowsDelivered`` says how many data rows the chunks handed over held, none of them twice: the
/// newlines that end rows in text, those outside quotes in CSV (a value with a line break in it is one row), the
/// tuples in binary, as the statement's `FORMAT` says. Resume after the key of the last row received (see
/// <doc:LargeResultsAndBulkLoads>).
public struct PostgresCopyOutStream: AsyncSequence, Sendable {
    /// A chunk of COPY data.
    public typealias Element = [UInt8]

    final class Source: Sendable {
        /// The session, handed to the one iterator, which alone holds it from then on: the end of the loop stops
        /// the COPY even while the stream value is kept. Nil once the COPY has ended (its data was no more than the
        /// first chunk).
        let session: Mutex<StreamSession?>
        let client: PostgresClient
        /// The first chunk, read before the stream was returned, taken by its one iterator.
        let first: Mutex<[UInt8]??>
        /// The statement, whose format says how rows are told apart in the data.
        let statement: String

        init(session: StreamSession?, client: PostgresClient, first: [UInt8]?, statement: String) {
            self.session = Mutex(session)
            self.client = client
            self.first = Mutex(.some(first))
            self.statement = statement
        }
    }

    let source: Source

    /// The stream's iterator; there can be only one.
    public func makeAsyncIterator() -> AsyncIterator {
        guard let first = source.first.withLock({ $0.take() }) else {
            preconditionFailure("a PostgresCopyOutStream can be iterated only once")
        }
        return AsyncIterator(source: source, session: source.session.withLock { $0.take() }, pending: first)
    }

    /// Hands over the first chunk, then reads the next ones from the session.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let source: Source
        /// The session; the iterator alone holds it, so that dropping the iterator stops the COPY.
        let session: StreamSession?
        var pending: [UInt8]?
        /// The data rows in the chunks handed over.
        var delivered: CopyRowCounter
        var isFinished = false

        init(source: Source, session: StreamSession?, pending: [UInt8]?) {
            self.source = source
            self.session = session
            self.pending = pending
            delivered = CopyRowCounter(statement: source.statement)
        }

        /// The next chunk, or nil after the last.
        ///
        /// - Throws: ``PostgresError``, with ``PostgresError/rowsDelivered`` (data rows), when the COPY fails.
        public mutating func next() async throws -> [UInt8]? {
            try await next(isolation: nil)
        }

        /// The next chunk, or nil after the last, read in the caller's isolation.
        ///
        /// - Throws: ``PostgresError``, with ``PostgresError/rowsDelivered`` (data rows), when the COPY fails.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws -> [UInt8]? {
            if let chunk = pending.take() {
                delivered.count(chunk)
                return chunk
            }
            guard !isFinished, let session else { return nil }
            do {
                guard let chunk = try await session.connection.nextCopyData(deadline: nil) else {
                    isFinished = true
                    await session.end(reuse: true)
                    return nil
                }
                delivered.count(chunk)
                return chunk
            } catch let failure as TransportError {
                isFinished = true
                await session.end(reuse: failure.isConnectionUsable)
                throw source.client.interruptedStream(
                    by: failure, delivered: delivered.rows, mayHaveBeenApplied: false, startedAt: session.start,
                    earlierAttempts: session.earlierAttempts
                )
            }
        }
    }
}

extension PostgresClient {
    /// Runs a `COPY ... TO STDOUT` and returns its data as a stream of chunks, read as they arrive in constant
    /// memory.
    ///
    /// ```swift
    /// for try await chunk in try await client.copyOut("COPY items TO STDOUT (FORMAT csv)", options: .readOnly) {
    ///     try file.write(contentsOf: chunk)
    /// }
    /// ```
    /// The COPY is retried as `options` allow until its first chunk has arrived, before any reaches the caller; a
    /// failure after that ends the stream with a ``PostgresError`` that says how many data rows were delivered
    /// (``PostgresError/rowsDelivered``), and is not retried. The operation's deadline bounds the wait for the first
    /// chunk; after that, the stream waits for the server as long as it takes (cancel the task to stop).
    ///
    /// - Throws: ``PostgresError`` once retrying is no longer safe or useful.
    public func copyOut(_ query: PostgresQuery, options: OperationOptions = .write) async throws -> PostgresCopyOutStream {
        let (session, first) = try await openStream(options) { connection, deadline in
            try await connection.startCopyOut(query.sql, parameters: query.parameters, deadline: deadline)
            return try await connection.nextCopyData(deadline: deadline)
        }
        guard let first else {
            // No data: the COPY is over already.
            await session.end(reuse: true)
            return PostgresCopyOutStream(source: .init(session: nil, client: self, first: nil, statement: query.sql))
        }
        return PostgresCopyOutStream(source: .init(session: session, client: self, first: first, statement: query.sql))
    }
}
