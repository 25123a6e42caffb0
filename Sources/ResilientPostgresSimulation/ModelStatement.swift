import PostgresTransport
import ResilientPostgres

/// The tiny statement language of the model server, parsed from the SQL the workload sends.
///
/// `INSERT INTO effects VALUES (7)` applies effect 7; `SELECT id FROM effects WHERE id = 7` reads it; `SET ...` and
/// `SELECT pg_advisory_lock(n)` leave session state; `RESET ALL`, `DISCARD ALL` and `SELECT pg_advisory_unlock_all()`
/// clear it; `BEGIN`, `COMMIT` and `ROLLBACK` delimit a transaction whose inserts wait for `COMMIT`; the empty
/// statement is the pool's liveness check; `EXECUTE nope` names a prepared statement that does not exist. The client's
/// own statements on its commit marker table (a transaction's marker, a claim after a lost `COMMIT` that answers whose
/// row the id is, the table's look-up and prune) are kept as a server keeps the table, by the marker's id.
enum ModelStatement: Equatable {
    case empty
    case begin
    case commit
    case rollback
    case insert(effect: Int)
    case readEffect(Int)
    case selectOne
    case set
    case advisoryLock(Int)
    case reset
    case executeUnknown
    /// The client's look-up of its commit marker table.
    case markerTableExists
    /// A transaction's commit marker, with its id.
    case marker(String)
    /// The client's claim of a marker id after a lost `COMMIT` answer, which answers whose row the id is.
    case claimMarker(String)
    /// The client's prune of old markers.
    case pruneMarkers

    /// The client's statements on its marker table, which it finds in `public` (the model's `search_path`).
    static let markerStatements = CommitMarkers.Statements(table: "public.resilient_postgres_commit_markers")
    case unknown

    init(_ sql: String, parameters: [Parameter] = []) {
        let text = sql.trimmingPrefix(while: \.isWhitespace)
        let upper = text.uppercased()
        let markers = Self.markerStatements
        let id = parameters.first?.bytes.map { String(decoding: $0, as: UTF8.self) } ?? ""
        if sql == CommitMarkers.Statements.resolution {
            self = .markerTableExists
        } else if sql == markers.marker {
            self = .marker(id)
        } else if sql == markers.claim {
            self = .claimMarker(id)
        } else if sql == markers.prune {
            self = .pruneMarkers
        } else if text.isEmpty {
            self = .empty
        } else if upper == "BEGIN" || upper.hasPrefix("START TRANSACTION") {
            self = .begin
        } else if upper == "COMMIT" || upper == "END" {
            self = .commit
        } else if upper == "ROLLBACK" || upper == "ABORT" {
            self = .rollback
        } else if upper.hasPrefix("INSERT INTO EFFECTS VALUES ("), let effect = Self.number(in: upper) {
            self = .insert(effect: effect)
        } else if upper.hasPrefix("SELECT ID FROM EFFECTS WHERE ID = "), let effect = Self.number(in: upper) {
            self = .readEffect(effect)
        } else if upper == "SELECT 1" {
            self = .selectOne
        } else if upper.hasPrefix("SELECT PG_ADVISORY_LOCK("), let key = Self.number(in: upper) {
            self = .advisoryLock(key)
        } else if upper.hasPrefix("SET ") {
            self = .set
        } else if upper == "RESET ALL" || upper == "DISCARD ALL" || upper == "SELECT PG_ADVISORY_UNLOCK_ALL()" {
            self = .reset
        } else if upper.hasPrefix("EXECUTE ") {
            self = .executeUnknown
        } else {
            self = .unknown
        }
    }

    /// Whether a hot standby refuses it (25006).
    var writes: Bool {
        switch self {
        case .insert, .marker, .claimMarker, .pruneMarkers: true
        default: false
        }
    }

    /// Whether it clears or ends session state rather than using the session (so it may run on a session whose
    /// state belongs to another operation without that state having carried over).
    var cleansSession: Bool {
        switch self {
        case .empty, .reset, .rollback: true
        default: false
        }
    }

    private static func number(in text: String) -> Int? {
        let digits = text.drop { !$0.isNumber }.prefix { $0.isNumber }
        return Int(digits)
    }
}
