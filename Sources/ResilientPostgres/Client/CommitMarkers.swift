import PostgresTransport
import Synchronization

/// The commit markers of one client: the table they go to, the statements that write, claim and prune them, and
/// whether the table is known to exist.
///
/// A write with ``OperationOptions/verifiedCommit`` inserts a row with a fresh random id into the table inside its
/// transaction, in the round trip of its `COMMIT`: the row exists afterwards exactly when the transaction committed.
/// When the answer is lost, the client claims the id on whatever server is primary now (a fence: an insert of the
/// same id that does nothing when the row is there). The claim waits for a transaction that still holds the id
/// uncommitted; once it is done, the row is the transaction's own marker (applied) or the claim (not applied, and
/// the transaction can no longer commit, as its insert of the id would fail). That holds on any server, so it needs
/// no backend, transaction id or timeline to be known, and it is unaffected by a pooler between client and server.
final class CommitMarkers: Sendable {
    /// The table's name, as configured.
    let table: String
    /// How long markers are kept: far longer than any operation's budget, so that no check can outlive its marker.
    let retention: Duration
    /// How often the client prunes markers past ``retention``.
    static let pruneInterval = Duration.seconds(300)
    /// The most markers one prune deletes, so that it holds its row locks briefly.
    static let pruneBatch = 1000

    private struct State {
        var tableIsReady = false
        var nextPrune: ContinuousClock.Instant?
    }

    private let state = Mutex(State())

    /// The statement of a transaction's marker, made once: every verified transaction sends it.
    private let markerSQL: String

    init(table: String, operationBudget: Duration) {
        self.table = table
        self.retention = max(.seconds(3600), operationBudget * 10)
        self.markerSQL = "INSERT INTO \(table) (id) VALUES ($1::uuid)"
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

    /// The table's definition. Markers are written with `is_fence` false by transactions, true by the checks that
    /// claim the id of a transaction whose `COMMIT` answer was lost.
    var definition: String {
        """
        CREATE TABLE IF NOT EXISTS \(table) (id uuid PRIMARY KEY, \
        written_at timestamptz NOT NULL DEFAULT now(), is_fence boolean NOT NULL DEFAULT false)
        """
    }

    /// Whether the table exists (`$1`: its name).
    static let existence = "SELECT to_regclass($1) IS NOT NULL"

    /// A transaction's marker, written just before its `COMMIT`.
    func marker(_ id: String) -> BatchStatement {
        BatchStatement(markerSQL, parameters: [.text(id)])
    }

    /// Claims `$1` unless a marker holds it; waits for a transaction that holds it uncommitted. Safe to repeat.
    var fence: String {
        "INSERT INTO \(table) (id, is_fence) VALUES ($1::uuid, true) ON CONFLICT (id) DO NOTHING"
    }

    /// Whether the row of `$1` is a claim (true) or a transaction's marker (false).
    var lookup: String { "SELECT is_fence FROM \(table) WHERE id = $1::uuid" }

    /// Deletes up to ``pruneBatch`` markers older than `$1` seconds, skipping rows another session holds.
    var prune: String {
        """
        DELETE FROM \(table) WHERE id IN (SELECT id FROM \(table) \
        WHERE written_at < now() - make_interval(secs => $1::float8) LIMIT \(Self.pruneBatch) FOR UPDATE SKIP LOCKED)
        """
    }

    /// The retention in seconds, bound to ``prune``'s `$1`.
    var retentionSeconds: String { String(retention.components.seconds) }

    // MARK: - State

    /// Whether the table was found or created by this client.
    var tableIsReady: Bool { state.withLock { $0.tableIsReady } }

    /// Records that the table exists; the first prune is due one interval after `now`.
    func tableFound(at now: ContinuousClock.Instant) {
        state.withLock {
            $0.tableIsReady = true
            if $0.nextPrune == nil { $0.nextPrune = now.advanced(by: Self.pruneInterval) }
        }
    }

    /// Whether a prune is due at `now`; if so, the next one is due an interval later, so only one caller prunes.
    func claimPrune(at now: ContinuousClock.Instant) -> Bool {
        state.withLock {
            guard let due = $0.nextPrune, now >= due else { return false }
            $0.nextPrune = now.advanced(by: Self.pruneInterval)
            return true
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
