import PostgresTransport
import Synchronization

/// The commit markers of one client: the table they go to, the statements that write, check and prune them, and
/// whether the table is known to exist.
///
/// A write with ``OperationOptions/verifiedCommit`` inserts a row with a fresh random id into the table inside its
/// transaction, in the round trip of its `COMMIT`: the row exists afterwards exactly when the transaction committed.
/// When the answer is lost, the client claims the id on whatever server is primary now (a fence: an insert of the
/// same id that does nothing when the row is there). The claim waits for a transaction that still holds the id
/// uncommitted; once it is done, the row is the transaction's own marker (applied) or the claim (not applied, and
/// the transaction can no longer commit, as its insert of the id would fail). That holds on any server, so it needs
/// no backend, transaction id or timeline to be known, and it is unaffected by a pooler between client and server.
package final class CommitMarkers: Sendable {
    /// The table's name, as configured.
    let table: String
    /// How long a marker is kept after it is written: far longer than any operation's budget, so that no check can
    /// outlive its marker. Each marker carries its own expiry, so clients with different budgets share a table.
    let retention: Duration
    /// How often the client prunes expired markers.
    static let pruneInterval = Duration.seconds(300)
    /// The most markers one prune deletes, so that it holds its row locks briefly.
    static let pruneBatch = 1000

    private struct State {
        /// The statements, once the table was found: they name it as found, schema and all.
        var statements: Statements?
        var nextPrune: ContinuousClock.Instant?
        var pruneFailureReported = false
        /// The prune running in the background, if any.
        var prune: Task<Void, Never>?
        var isShutDown = false
    }

    private let state = Mutex(State())

    init(table: String, operationBudget: Duration) {
        self.table = table
        self.retention = max(.seconds(3600), operationBudget * 10)
    }

    /// Whether the configured name is one a statement may carry as it is: `name` or `schema.name`, of ASCII letters,
    /// digits and underscores, not starting with a digit.
    var isValidTableName: Bool {
        let parts = table.split(separator: ".", omittingEmptySubsequences: false)
        return (1...2).contains(parts.count) && parts.allSatisfy { part in
            guard let first = part.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
                return false
            }
            return part.utf8.allSatisfy { byte in
                byte == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            }
        }
    }

    // MARK: - Statements

    /// The table's definition, and the index its pruning reads (see ``Statements/definition(of:)``).
    var definition: [String] { Statements.definition(of: table) }

    /// The statements of a marker table, naming it as given: the schema-qualified name it was found under, so that
    /// a `search_path` set by a block, a session initializer or a pooler's session can never send a marker and its
    /// check to two different tables.
    package struct Statements: Sendable, Hashable {
        /// The table, schema-qualified.
        package let table: String
        /// A transaction's marker (`$1`: its id, `$2`: seconds to keep it), written just before its `COMMIT`.
        package let marker: String
        /// The check of `$1` (`$2`: seconds to keep a claim): claims the id unless a row holds it, waiting for a
        /// transaction that holds it uncommitted, and returns the row's `is_fence`: true for a claim (this one, or
        /// an earlier check's), false for a transaction's marker. Safe to repeat.
        ///
        /// A row already there is updated to itself rather than left alone: the check then writes WAL in either
        /// case, so that its commit waits for a synchronous standby (a transaction that writes nothing does not),
        /// and the standby has everything up to it, the marker found among it.
        package let claim: String
        /// Deletes up to ``CommitMarkers/pruneBatch`` expired markers, skipping rows another session holds.
        package let prune: String

        /// The table's name qualified with its schema, quoted where needed, or no row when it does not exist (`$1`:
        /// the name as configured, resolved through the session's `search_path`).
        package static let resolution = """
            SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c \
            JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)
            """

        /// The definition of a table named `table` (as configured), and of the index its pruning reads. Markers are
        /// written with `is_fence` false by transactions, true by the checks that claim the id of a transaction
        /// whose `COMMIT` answer was lost; each with the time after which it may be deleted.
        package static func definition(of table: String) -> [String] {
            let name = table.split(separator: ".").last.map(String.init) ?? table
            return [
                """
                CREATE TABLE IF NOT EXISTS \(table) (id uuid PRIMARY KEY, \
                expires_at timestamptz NOT NULL, is_fence boolean NOT NULL DEFAULT false)
                """,
                "CREATE INDEX IF NOT EXISTS \(name)_expires_at ON \(table) (expires_at)",
            ]
        }

        package init(table: String) {
            let expiry = "clock_timestamp() + make_interval(secs => $2::float8)"
            self.table = table
            self.marker = "INSERT INTO \(table) (id, expires_at) VALUES ($1::uuid, \(expiry))"
            self.claim = """
                INSERT INTO \(table) AS marker (id, is_fence, expires_at) VALUES ($1::uuid, true, \(expiry)) \
                ON CONFLICT (id) DO UPDATE SET is_fence = marker.is_fence RETURNING is_fence
                """
            self.prune = """
                DELETE FROM \(table) WHERE id IN (SELECT id FROM \(table) \
                WHERE expires_at < now() LIMIT \(CommitMarkers.pruneBatch) FOR UPDATE SKIP LOCKED)
                """
        }
    }

    /// The retention in seconds, bound to the marker's and the claim's `$2`.
    var retentionSeconds: String { String(retention.components.seconds) }

    /// A transaction's marker with id `id`.
    func marker(_ id: String, in statements: Statements) -> BatchStatement {
        BatchStatement(statements.marker, parameters: [.text(id), .text(retentionSeconds)])
    }

    /// The check of marker `id` (see ``Statements/claim``).
    func check(_ id: String, in statements: Statements) -> BatchStatement {
        BatchStatement(statements.claim, parameters: [.text(id), .text(retentionSeconds)])
    }

    // MARK: - State

    /// The statements of the table, once it was found or created by this client.
    var statements: Statements? { state.withLock { $0.statements } }

    /// Records that the table exists, under the schema-qualified name `qualifiedName`; the first prune is due one
    /// interval after `now`.
    func tableFound(as qualifiedName: String, at now: ContinuousClock.Instant) -> Statements {
        let statements = Statements(table: qualifiedName)
        state.withLock {
            $0.statements = statements
            if $0.nextPrune == nil { $0.nextPrune = now.advanced(by: Self.pruneInterval) }
        }
        return statements
    }

    /// Forgets the table, which a marker found missing (dropped, or renamed): the next verified write looks it up
    /// again, and creates it if it may.
    func tableLost() {
        state.withLock { $0.statements = nil }
    }

    /// Whether a prune is due at `now`; if so, the next one is due an interval later, so only one caller prunes.
    func claimPrune(at now: ContinuousClock.Instant) -> Bool {
        state.withLock {
            guard $0.statements != nil, let due = $0.nextPrune, now >= due else { return false }
            $0.nextPrune = now.advanced(by: Self.pruneInterval)
            return true
        }
    }

    /// Runs `prune` in a task of its own, unless one still runs (a prune slower than the interval) or the client is
    /// shutting down; ``shutDown()`` cancels it.
    func startPrune(_ prune: @escaping @Sendable () async -> Void) {
        state.withLock { state in
            guard !state.isShutDown, state.prune == nil else { return }
            // Detached: the prune is no part of the operation that found it due, nor of its deadline. It clears its
            // handle when done, which waits for this lock, so after the handle is set.
            state.prune = Task.detached {
                await prune()
                self.state.withLock { $0.prune = nil }
            }
        }
    }

    /// Cancels the prune in progress, if any, waits for it to end, and starts no other.
    func shutDown() async {
        let prune = state.withLock { state in
            state.isShutDown = true
            return state.prune
        }
        prune?.cancel()
        await prune?.value
    }

    /// Whether a failed prune is the first one: only that one is worth a warning, the table then growing until
    /// someone with the right to delete from it prunes it.
    func pruneFailed() -> Bool {
        state.withLock { state in
            defer { state.pruneFailureReported = true }
            return !state.pruneFailureReported
        }
    }

    /// A fresh marker id: 128 random bits from the system's generator, written as a UUID
    /// (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`).
    static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        let halves = [generator.next() as UInt64, generator.next() as UInt64]
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for nibble in 0..<32 {
            if nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20 { text.append(UInt8(ascii: "-")) }
            let value = halves[nibble / 16] >> (60 - 4 * UInt64(nibble % 16)) & 0xF
            text.append(digits[Int(value)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
