import ResilientPostgres
import ResilientPostgresTesting
import Synchronization
import Testing

extension StreamTests {
    /// A COPY whose task is cancelled while its producer ignores cancellation stops reading the producer at once,
    /// instead of encoding and sending the rest of the data, and applies nothing.
    @Test func aCancelledCopyStopsReadingItsChunks() async throws {
        let database = ScriptedDatabase()
        let chunks = CancellingChunks(total: 1_000_000, cancelAfter: 10)
        let client = PostgresClient.testing(database)

        let error = await #expect(throws: PostgresError.self) {
            try await client.copyIn("COPY fruit FROM STDIN (FORMAT csv)", from: chunks)
        }
        #expect(error?.reason == .cancelled)
        #expect(chunks.calls < 1_000)
        #expect(database.copies.allSatisfy { !$0.isComplete })
        await client.shutdown()
    }

    /// A row stream whose task is cancelled ends at the end of the batch at hand, instead of handing over every
    /// row the session has buffered, and says how many rows came.
    @Test func aCancelledRowStreamEndsAtTheBatchAtHand() async throws {
        let database = ScriptedDatabase()
        database.answerItems(count: 100_000)
        let client = PostgresClient.testing(database)

        var delivered = 0
        let error = await #expect(throws: PostgresError.self) {
            for try await _ in try await client.rows("SELECT id FROM items WHERE id > \(0)", options: .readOnly) {
                delivered += 1
                if delivered == 10 { withUnsafeCurrentTask { $0?.cancel() } }
            }
        }
        #expect(error?.reason == .cancelled)
        #expect(delivered < 1_000)
        #expect(error?.rowsDelivered == delivered)
        await client.shutdown()
    }

    /// A server-side cancellation mid-stream (`statement_timeout`, or an administrator's `pg_cancel_backend`) is not
    /// the app's: the stream ends as interrupted, so that resume code resumes, and the give-up is reported.
    @Test func aStatementTimeoutMidStreamIsAnInterruptionAndIsReported() async throws {
        let database = ScriptedDatabase()
        database.answerItems(count: 10)
        database.interruptStream("SELECT id FROM items", after: 2, with: .statementTimeout)
        let events = EventLog()
        let client = PostgresClient.testing(database) { $0.onAttempt = events.record }

        var delivered = 0
        let error = await #expect(throws: PostgresError.self) {
            for try await _ in try await client.rows("SELECT id FROM items WHERE id > \(0)", options: .readOnly) {
                delivered += 1
            }
        }
        #expect(error?.reason == .streamInterrupted)
        #expect(error?.rowsDelivered == 2)
        #expect(error?.lastFailure?.sqlState == "57014")
        // The attempt that opened the stream succeeded; the stream then gave up.
        #expect(events.outcomes == [.succeeded, .gaveUp(.streamInterrupted)])
        await client.shutdown()
    }
}

/// CSV chunks of one row each that ignore cancellation, and cancel the task that reads them after `cancelAfter`
/// chunks; counts the calls to `next()`.
private final class CancellingChunks: AsyncSequence, Sendable {
    let total: Int
    let cancelAfter: Int
    private let count = Mutex(0)

    init(total: Int, cancelAfter: Int) {
        self.total = total
        self.cancelAfter = cancelAfter
    }

    var calls: Int { count.withLock { $0 } }

    struct AsyncIterator: AsyncIteratorProtocol {
        let chunks: CancellingChunks

        func next() async -> [UInt8]? {
            let call = chunks.count.withLock { count in
                count += 1
                return count
            }
            if call == chunks.cancelAfter { withUnsafeCurrentTask { $0?.cancel() } }
            return call <= chunks.total ? Array("\(call),fruit\n".utf8) : nil
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(chunks: self) }
}
