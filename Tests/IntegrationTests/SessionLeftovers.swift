import PostgresTransport
import ResilientPostgres
import Testing

/// Session state one lease leaves behind on purpose, under names unique to one test, and what the next operations
/// must find instead: a session as new.
struct SessionLeftovers {
    /// How the lease runs, and whether its closure ends with the app's own error.
    enum Lease: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case connection, connectionThrowing, transaction, transactionThrowing

        var testDescription: String { rawValue }
        var isTransaction: Bool { self == .transaction || self == .transactionThrowing }
        var throwsAtTheEnd: Bool { self == .connectionThrowing || self == .transactionThrowing }
    }

    /// The app's own error, thrown at the end of a lease.
    struct LeftBehind: Error {}

    /// What a fresh session shows of the state leases can leave (columns named like the properties).
    struct Observed: Decodable, Equatable {
        var pid: Int
        var defaultTransactionReadOnly: String
        var searchPath: String
        var currentRole: String
        var listening: Int
        var cursors: Int
        var appPrepared: Int
    }

    let lockKey = Int.random(in: 1...Int(Int32.max))
    let table = IntegrationServers.unique("left_temp")
    let channel = IntegrationServers.unique("left_channel")
    let statement = IntegrationServers.unique("left_statement")
    let cursor = IntegrationServers.unique("left_cursor")
    /// A role the app may `SET ROLE` to, made by ``makeRole(port:)``.
    let role = IntegrationServers.unique("left_role")

    /// The statements that leave state behind, in an order that lets each run (read-only and the role come last).
    var statements: [String] {
        [
            "SET search_path = nowhere",
            "SELECT pg_advisory_lock(\(lockKey))",
            "CREATE TEMP TABLE \(table) (id int)",
            "LISTEN \(channel)",
            "PREPARE \(statement) AS SELECT 1",
            "DECLARE \(cursor) CURSOR WITH HOLD FOR SELECT 1",
            "SET default_transaction_read_only = on",
            "SET ROLE \(role)",
        ]
    }

    /// Runs the statements in one lease of `client`; returns the backend's pid as the lease saw it.
    func leave(with client: PostgresClient, _ lease: Lease) async throws -> Int {
        let pidQuery: PostgresQuery = "SELECT pg_backend_pid()"
        var pid = -1
        do {
            if lease.isTransaction {
                try await client.transaction { tx in
                    pid = try #require(try await tx.query(pidQuery).decode(Int.self).first)
                    for sql in statements { try await tx.execute("\(unsafeRaw: sql)") }
                    if lease.throwsAtTheEnd { throw LeftBehind() }
                }
            } else {
                try await client.withConnection { connection in
                    pid = try #require(try await connection.query(pidQuery).decode(Int.self).first)
                    for sql in statements { try await connection.execute("\(unsafeRaw: sql)") }
                    if lease.throwsAtTheEnd { throw LeftBehind() }
                }
            }
        } catch is LeftBehind {}
        return pid
    }

    /// What the next operation of `client` sees of its session.
    static func observe(with client: PostgresClient) async throws -> Observed {
        let rows = try await client.query("""
            SELECT pg_backend_pid() AS pid,
                current_setting('default_transaction_read_only') AS default_transaction_read_only,
                current_setting('search_path') AS search_path, current_user::text AS current_role,
                (SELECT count(*) FROM pg_listening_channels())::int AS listening,
                (SELECT count(*) FROM pg_cursors WHERE name <> '')::int AS cursors,
                (SELECT count(*) FROM pg_prepared_statements WHERE from_sql)::int AS app_prepared
            """, options: .readOnly)
        return try #require(try rows.decode(Observed.self, keyDecodingStrategy: .convertFromSnakeCase).first)
    }

    /// Whether any session of the server (seen by a superuser session on `port`) still holds the advisory lock or
    /// the temporary table.
    func anyHeldOnServer(port: String) async throws -> (lock: Bool, table: Bool) {
        let admin = try await IntegrationServers.superuserSession(port: port)
        let locks = try await admin.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = \(lockKey)"
        )
        let tables = try await admin.execute(
            "SELECT count(*) FROM pg_class WHERE relname = $1 AND relpersistence = 't'", parameters: [.text(table)]
        )
        await admin.close()
        return (locks.string(row: 0, column: 0) != "0", tables.string(row: 0, column: 0) != "0")
    }

    /// Makes ``role``, which the app may `SET ROLE` to.
    func makeRole(port: String) async throws {
        let admin = try await IntegrationServers.superuserSession(port: port)
        _ = try await admin.execute("CREATE ROLE \(role) NOLOGIN")
        _ = try await admin.execute("GRANT \(role) TO \(IntegrationServers.appUser)")
        await admin.close()
    }

    func dropRole(port: String) async throws {
        let admin = try await IntegrationServers.superuserSession(port: port)
        _ = try await admin.execute("DROP ROLE IF EXISTS \(role)")
        await admin.close()
    }

    /// The same temporary table, prepared statement and advisory lock again, in a new lease: each works only if
    /// the first lease's is gone (and the temporary table only if the session is not read-only).
    func takeAgain(with client: PostgresClient) async throws -> Bool {
        try await client.withConnection { connection in
            try await connection.execute("CREATE TEMP TABLE \(unsafeRaw: table) (id int)")
            try await connection.execute("PREPARE \(unsafeRaw: statement) AS SELECT 1")
            let locked = try await connection.query("SELECT pg_try_advisory_lock(\(lockKey))").decode(Bool.self)
            return locked == [true]
        }
    }
}
