import ResilientPostgres

/// One account as a screen shows it: its balance, its latest payments, and what the store is doing.
///
/// Isolated to the main actor, like a view model. The client's closures run on the main actor too, so they change
/// the store's state directly. A closure may run more than once (the client runs a transaction again when the
/// server rolled it back), so each one sets state rather than adding to it.
@MainActor
public final class AccountStore {
    /// What the store is doing, for a screen to show.
    public enum Status: Hashable, Sendable {
        case idle
        /// Running a transaction; an attempt after the first means the database asked for a retry.
        case saving(attempt: Int)
        /// The answer to a `COMMIT` was lost; looking for the payment to learn whether it was recorded.
        case checking
    }

    public let accountID: Int
    public private(set) var balance = Cents(0)
    /// The latest payments, newest first.
    public private(set) var recentPayments: [Payment] = []
    public private(set) var status = Status.idle

    private let client: PostgresClient

    public init(client: PostgresClient, accountID: Int) {
        self.client = client
        self.accountID = accountID
    }

    /// Reads the balance and the latest payments again.
    public func refresh() async throws {
        // Two reads on one session; read-only, so the client runs the closure again after any transient failure.
        try await client.withConnection(options: .readOnly) { connection in
            let account = try await connection.query("SELECT balance_cents FROM accounts WHERE id = \(accountID)")
            let payments = try await connection.query("""
                SELECT key, amount_cents FROM payments WHERE account_id = \(accountID)
                ORDER BY recorded_at DESC, key LIMIT 10
                """)
            balance = try account[0].decode(Cents.self, column: 0)
            recentPayments = try payments.decode((String, Cents).self).map(Payment.init)
        }
    }

    /// Records `payment` and credits the account with it.
    ///
    /// When the answer to `COMMIT` is lost, the client looks for the payment's key before running the transaction
    /// again, so a payment is never recorded twice.
    ///
    /// - Throws: `PostgresError` when the database could not be reached within the client's budget, or when the
    ///   outcome is unknown and the check failed too: recording the same payment again is then safe.
    public func record(_ payment: Payment) async throws -> Outcome {
        defer { status = .idle }
        var attempt = 0
        do {
            let outcome = try await client.transaction(verifyingWith: { client in
                status = .checking
                let found = try await client.query(
                    "SELECT 1 FROM payments WHERE key = \(payment.key)", options: .readOnly
                )
                return !found.isEmpty
            }) { tx in
                attempt += 1
                status = .saving(attempt: attempt)
                try await tx.execute("""
                    INSERT INTO payments (key, account_id, amount_cents)
                    VALUES (\(payment.key), \(accountID), \(payment.amount))
                    """)
                let account = try await tx.query("""
                    UPDATE accounts SET balance_cents = balance_cents + \(payment.amount) WHERE id = \(accountID)
                    RETURNING balance_cents
                    """)
                return try account[0].decode(Cents.self, column: 0)
            }
            if let newBalance = outcome.value {
                balance = newBalance
                recentPayments.insert(payment, at: 0)
            } else {
                // Recorded by an attempt whose answer was lost: the new balance is the database's to say.
                try await refresh()
            }
            return .recorded
        } catch SQLState.uniqueViolation {
            // 23505: the key of `payments` says this payment was recorded before.
            return .duplicate
        } catch SQLState.Class.integrityConstraintViolation {
            // Any other constraint (class 23): the balance check, or an account that does not exist.
            return .rejected
        }
    }

    /// Takes a recorded payment back out of the account; returns false when no payment has that key.
    public func reverse(paymentKey key: String) async throws -> Bool {
        defer { status = .idle }
        var attempt = 0
        let newBalance: Cents? = try await client.transaction { tx in
            attempt += 1
            status = .saving(attempt: attempt)
            let deleted = try await tx.query("""
                DELETE FROM payments WHERE key = \(key) AND account_id = \(accountID) RETURNING amount_cents
                """)
            guard !deleted.isEmpty else { return nil }
            let amount = try deleted[0].decode(Cents.self, column: 0)
            let account = try await tx.query("""
                UPDATE accounts SET balance_cents = balance_cents - \(amount) WHERE id = \(accountID)
                RETURNING balance_cents
                """)
            return try account[0].decode(Cents.self, column: 0)
        }
        guard let newBalance else { return false }
        balance = newBalance
        recentPayments.removeAll { $0.key == key }
        return true
    }
}
