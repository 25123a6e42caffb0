import ResilientPostgres
import Synchronization

/// The commit marker table of a ``ScriptedDatabase``, kept as a server keeps it, so that writes with
/// `OperationOptions.verifiedCommit` can be tested through a lost `COMMIT` answer.
///
/// Made by ``ScriptedDatabase/keepCommitMarkers(table:)``. A marker a transaction writes is held by its session
/// until its `COMMIT`, and is committed by it; the client's check after a lost answer claims the id, and learns
/// whether the row is the transaction's marker (applied) or a claim (not applied). Script a lost answer with
/// ``loseNextCommit(_:times:)``, and a failover that lost the latest commits with ``failOver()``.
public final class ScriptedCommitMarkers: Sendable {
    /// What happens to a `COMMIT` whose answer is lost.
    public enum LostCommit: Sendable, Hashable {
        /// The transaction committed, and then the connection closed before the answer.
        case applied
        /// The connection closed before the transaction committed: nothing of it was applied.
        case notApplied
        /// The old server process is still running the `COMMIT` when the check arrives: the check waits for it, as
        /// a server's would, and the transaction commits first.
        case stillRunning
        /// The old primary committed, then failed over to a standby that never got the commit (asynchronous
        /// replication): the check, on the new primary, finds no marker. Move ``ScriptedDatabase/host`` for the
        /// sessions opened after the failover to show on another host.
        case appliedOnOldPrimary
    }

    private struct State {
        /// Markers by id: false for a transaction's, true for a check's claim.
        var rows: [String: Bool] = [:]
        /// The marker each session's open transaction wrote, by connect number.
        var pending: [Int: String] = [:]
        /// Markers whose `COMMIT` is still running on a lost session.
        var inFlight: Set<String> = []
        var lostCommits: [LostCommit] = []
        var claims = 0
        var tableExists = true
    }

    private let state = Mutex(State())

    /// The client's statements for this table, which the client names schema-qualified once it found it.
    private let statements: CommitMarkers.Statements

    /// The statement of a transaction's marker, written right before its `COMMIT`.
    public var marker: StatementMatcher { .sql(statements.marker) }
    /// The statement by which the client's check claims a marker's id after a lost `COMMIT` answer.
    public var claim: StatementMatcher { .sql(statements.claim) }
    /// The statement that deletes expired markers, a batch at a time.
    public var prune: StatementMatcher { .sql(statements.prune) }
    /// The statement that looks the table up (and finds it, unless ``dropTable()`` was called).
    public var lookUpTable: StatementMatcher { .sql(CommitMarkers.Statements.resolution) }
    /// The statement that creates the table when it is missing.
    public let createTable: StatementMatcher

    init(database: ScriptedDatabase, table: String) {
        // A name without a schema is found in `public`, as a server's default `search_path` finds it.
        let qualified = table.contains(".") ? table : "public.\(table)"
        statements = CommitMarkers.Statements(table: qualified)
        let definition = CommitMarkers.Statements.definition(of: table)
        createTable = .sql(definition[0])
        database.answer(lookUpTable) { _ in
            let exists = self.state.withLock { $0.tableExists }
            return .textRows([("format", .text)], exists ? [[qualified]] : [])
        }
        database.answer(createTable) { _ in
            self.state.withLock { $0.tableExists = true }
            return .command("CREATE TABLE")
        }
        database.answer(.sql(definition[1]), with: .command("CREATE INDEX"))
        database.answer(prune, with: .deleted(0))
        database.answer(marker) { statement in
            let id = Self.id(of: statement)
            return self.state.withLock { state in
                guard state.tableExists else {
                    return .fault(.sqlState("42P01", message: "relation \"\(qualified)\" does not exist"))
                }
                if state.rows[id] != nil || state.inFlight.contains(id) {
                    return .fault(.sqlState("23505", message: "duplicate key value violates unique constraint"))
                }
                state.pending[statement.connection] = id
                return .inserted(1)
            }
        }
        // Only a COMMIT of a transaction that wrote a marker; others get the database's own answer.
        let commitsMarker = StatementMatcher.matching { statement in
            ["COMMIT", "END"].contains(SQLKeyword.first(of: statement.sql))
                && self.state.withLock { $0.pending[statement.connection] != nil }
        }
        database.answer(commitsMarker) { statement in
            self.state.withLock { state in
                let id = state.pending.removeValue(forKey: statement.connection)!
                let lost = state.lostCommits.isEmpty ? nil : state.lostCommits.removeFirst()
                switch lost {
                case nil, .applied?: state.rows[id] = false
                case .notApplied?, .appliedOnOldPrimary?: break
                case .stillRunning?: state.inFlight.insert(id)
                }
                return lost == nil ? .command("COMMIT") : .fault(.connectionLostAfterSend)
            }
        }
        database.answer(claim) { statement in
            let id = Self.id(of: statement)
            return self.state.withLock { state in
                state.claims += 1
                // The claim waits for the transaction still holding the id, which then commits.
                if state.inFlight.remove(id) != nil { state.rows[id] = false }
                let isFence = state.rows[id] ?? true
                state.rows[id] = isFence
                return .textRows([("is_fence", .bool)], [[isFence ? "t" : "f"]])
            }
        }
    }

    /// Makes the answer to the next `COMMIT` of a transaction with a marker (`count` of them, in order) get lost,
    /// with `outcome` on the server.
    public func loseNextCommit(_ outcome: LostCommit, times count: Int = 1) {
        state.withLock { $0.lostCommits += Array(repeating: outcome, count: count) }
    }

    /// A failover to a standby that never got the latest commits (asynchronous replication): every marker
    /// committed so far is gone, so a check finds none of them.
    public func failOver() {
        state.withLock {
            $0.rows.removeAll()
            $0.inFlight.removeAll()
        }
    }

    /// Drops the table (and every marker in it): a marker then fails with 42P01, and the table's look-up finds
    /// nothing until the client creates it again.
    public func dropTable() {
        state.withLock {
            $0.tableExists = false
            $0.rows.removeAll()
        }
    }

    /// The ids of the markers transactions committed (claims left out).
    public var committedMarkers: Set<String> {
        state.withLock { Set($0.rows.filter { !$0.value }.keys) }
    }

    /// How many claims the client's checks made.
    public var claims: Int { state.withLock { $0.claims } }

    private static func id(of statement: RecordedStatement) -> String {
        (try? statement.parameter(0, as: String.self)) ?? ""
    }
}

extension ScriptedDatabase {
    /// Keeps a commit marker table named `table` (the client's default name unless configured otherwise), so that
    /// writes with `OperationOptions.verifiedCommit` run, and their lost `COMMIT` answers can be scripted.
    public func keepCommitMarkers(table: String = "resilient_postgres_commit_markers") -> ScriptedCommitMarkers {
        ScriptedCommitMarkers(database: self, table: table)
    }
}
