import ResilientPostgres

/// One transfer between two accounts, identified by a key stored with it in the transfer log.
struct Transfer: Sendable {
    var id: String
    var from: Int
    var to: Int
    var amount: Int

    /// How a transfer locks what it reads.
    enum Isolation: String, CaseIterable, Sendable {
        /// SERIALIZABLE: the server aborts (40001) whichever of two conflicting transfers commits second.
        case serializable
        /// READ COMMITTED with `SELECT ... FOR UPDATE` on both accounts, in account order (no deadlock).
        case forUpdate = "for-update"
    }

    /// The app forbids overdrafts: a transfer larger than the balance is declined and rolled back.
    struct Declined: Error {}

    /// The block: checks the payer's balance, moves the amount and writes the log entry.
    func run(in transaction: PostgresTransaction, isolation: Isolation) async throws {
        let balance: Int
        switch isolation {
        case .serializable:
            try await transaction.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
            balance = try await transaction.query("SELECT balance FROM bank_accounts WHERE id = \(from)")
                .decode(Int.self).first ?? 0
        case .forUpdate:
            let rows = try await transaction.query("""
                SELECT id, balance FROM bank_accounts WHERE id IN (\(from), \(to)) ORDER BY id FOR UPDATE
                """).decode((Int, Int).self)
            balance = rows.first { $0.0 == from }?.1 ?? 0
        }
        guard balance >= amount else { throw Declined() }
        try await transaction.execute("UPDATE bank_accounts SET balance = balance - \(amount) WHERE id = \(from)")
        try await transaction.execute("UPDATE bank_accounts SET balance = balance + \(amount) WHERE id = \(to)")
        try await transaction.execute("""
            INSERT INTO bank_transfers (id, payer, payee, amount) VALUES (\(id), \(from), \(to), \(amount))
            """)
    }
}
