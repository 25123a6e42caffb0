import PostgresTransport
import ResilientPostgres
import Testing
import TestSupport

extension CopyTests {
    /// A COPY whose task is cancelled while it waits for more data: its chunks' stream ends (an `AsyncStream`
    /// returns nil once cancelled), which must not be taken as the end of the data and commit the rows sent so far.
    @Test func aCancelledCopyAppliesNothingOfWhatItSent() async throws {
        let client = Self.client()
        let table = IntegrationServers.unique("copy_cancel")
        try await withCleanup {
            try await client.execute("CREATE TABLE \(unsafeRaw: table) (id int)")
            let (chunks, continuation) = AsyncStream<[UInt8]>.makeStream()
            let copy = Task {
                try await client.copyIn("COPY \(unsafeRaw: table) FROM STDIN", from: chunks)
            }
            continuation.yield(Array("1\n2\n3\n".utf8))
            var processed = 0
            for _ in 0..<1000 where processed < 3 {
                processed = try await client.query(
                    "SELECT coalesce(max(tuples_processed), 0)::int FROM pg_stat_progress_copy WHERE relid = \(table)::regclass",
                    options: .readOnly
                ).decode(Int.self).first ?? 0
                if processed < 3 { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(processed >= 3)
            copy.cancel()
            await #expect(throws: (any Error).self) { try await copy.value }
            #expect(try await client.query("SELECT count(*)::int FROM \(unsafeRaw: table)", options: .readOnly)
                .decode(Int.self) == [0])
        } cleanup: {
            try await client.execute("DROP TABLE IF EXISTS \(unsafeRaw: table)")
            await client.shutdown()
        }
    }

    /// The same for binary rows: the rows' stream ends under cancellation, and no trailer makes the data valid.
    @Test func aCancelledBinaryCopyAppliesNothingOfWhatItSent() async throws {
        let client = Self.client()
        let table = IntegrationServers.unique("copy_cancel_binary")
        try await withCleanup {
            try await client.execute("CREATE TABLE \(unsafeRaw: table) (id int8)")
            let (rows, continuation) = AsyncStream<[any PostgresEncodable]>.makeStream()
            let copy = Task {
                try await client.copyIn("COPY \(unsafeRaw: table) FROM STDIN (FORMAT binary)", rows: rows)
            }
            continuation.yield([1])
            continuation.yield([2])
            // Binary rows are sent in 64 KiB chunks: wait for the COPY to have started, then cancel.
            var started = false
            for _ in 0..<1000 where !started {
                started = try await client.query(
                    "SELECT count(*)::int FROM pg_stat_progress_copy WHERE relid = \(table)::regclass",
                    options: .readOnly
                ).decode(Int.self) == [1]
                if !started { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(started)
            copy.cancel()
            await #expect(throws: (any Error).self) { try await copy.value }
            #expect(try await client.query("SELECT count(*)::int FROM \(unsafeRaw: table)", options: .readOnly)
                .decode(Int.self) == [0])
        } cleanup: {
            try await client.execute("DROP TABLE IF EXISTS \(unsafeRaw: table)")
            await client.shutdown()
        }
    }
}

extension CopyTests {
    /// Bare, the session terminated once the end of the data was sent, while a statement trigger holds the COPY
    /// at its end: the server answers FATAL 57P01 and rolls the COPY back, and the error says nothing was applied.
    @Test func aBareCopyTerminatedAtItsEndIsNotApplied() async throws {
        let client = PostgresClient(configuration: IntegrationServers.configuration(
            IntegrationServers.appParameters(port: Self.port)
        ) { $0.maxConnections = 1 })
        let superuser = try await IntegrationServers.superuserSession(port: Self.port)
        let table = IntegrationServers.unique("copy_lost")
        let key = Int.random(in: 1...1_000_000_000)
        try await withCleanup {
            try await client.execute("CREATE TABLE \(unsafeRaw: table) (id int)")
            try await client.execute("""
                CREATE FUNCTION \(unsafeRaw: table)_wait() RETURNS trigger LANGUAGE plpgsql AS
                $$ BEGIN PERFORM pg_advisory_xact_lock(\(unsafeRaw: String(key))); RETURN NULL; END $$
                """)
            try await client.execute("""
                CREATE TRIGGER wait_at_end AFTER INSERT ON \(unsafeRaw: table)
                FOR EACH STATEMENT EXECUTE FUNCTION \(unsafeRaw: table)_wait()
                """)
            let pid = try await client.withConnection { try await $0.query("SELECT pg_backend_pid()") }
                .decode(Int.self)[0]
            _ = try await superuser.execute("SELECT pg_advisory_lock($1)", parameters: [.text(String(key))])
            let copy = Task {
                try await client.copyIn("COPY \(unsafeRaw: table) FROM STDIN", from: Self.chunks(["1\n2\n"]))
            }
            var waiting = false
            for _ in 0..<1000 where !waiting {
                let found = try await superuser.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'",
                    parameters: [.text(String(pid))]
                )
                waiting = found.string(row: 0, column: 0) == "1"
                if !waiting { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(waiting)
            _ = try await superuser.execute("SELECT pg_terminate_backend($1)", parameters: [.text(String(pid))])
            do {
                _ = try await copy.value
                Issue.record("the COPY succeeded although its session was terminated")
            } catch let error as PostgresError {
                #expect(error.reason == .streamInterrupted)
                #expect(!error.mayHaveBeenApplied)
                #expect(error.attempts == 1)
            }
            _ = try await superuser.execute("SELECT pg_advisory_unlock_all()")
            #expect(try await client.query("SELECT count(*)::int FROM \(unsafeRaw: table)", options: .readOnly)
                .decode(Int.self) == [0])
        } cleanup: {
            _ = try? await superuser.execute("SELECT pg_advisory_unlock_all()")
            try await client.execute("DROP TABLE IF EXISTS \(unsafeRaw: table)")
            try await client.execute("DROP FUNCTION IF EXISTS \(unsafeRaw: table)_wait()")
            await client.shutdown()
            await superuser.close()
        }
    }
}
