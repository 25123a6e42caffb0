import ResilientPostgres

/// Records payments, each at most once however the network behaves, and debits the paying account.
public struct PaymentsRepository: Sendable {
    let client: PostgresClient

    /// A repository over `client`.
    public init(client: PostgresClient) {
        self.client = client
    }

    /// Records `payment` and debits its account, in one transaction.
    ///
    /// The transaction runs again if the server rolls it back (a serialization failure, a restart). A payment
    /// already recorded under the same idempotency key is not recorded again.
    ///
    /// - Throws: ``PaymentsError/outcomeUnknown(idempotencyKey:)`` when the answer to `COMMIT` was lost, so the
    ///   payment may or may not be recorded (record it again with the same key to find out);
    ///   ``PaymentsError/databaseUnavailable`` when the database stayed out of reach for the whole budget.
    public func record(_ payment: Payment) async throws -> RecordingOutcome {
        do {
            return try await client.transaction { tx in
                let inserted = try await tx.execute("""
                    INSERT INTO payments (idempotency_key, account_id, amount_cents)
                    VALUES (\(payment.idempotencyKey), \(payment.accountID), \(payment.amountCents))
                    ON CONFLICT (idempotency_key) DO NOTHING
                    """)
                guard inserted == 1 else { return .alreadyRecorded }
                try await tx.execute("""
                    UPDATE accounts SET balance_cents = balance_cents - \(payment.amountCents)
                    WHERE id = \(payment.accountID)
                    """)
                return .recorded
            }
        } catch let error as PostgresError where error.mayHaveBeenApplied {
            throw PaymentsError.outcomeUnknown(idempotencyKey: payment.idempotencyKey)
        } catch let error as PostgresError where error.reason == .budgetExhausted {
            throw PaymentsError.databaseUnavailable
        }
    }

    /// The amount recorded under an idempotency key, or nil when there is none.
    public func amountCents(forKey idempotencyKey: String) async throws -> Int? {
        let rows = try await client.query(
            "SELECT amount_cents FROM payments WHERE idempotency_key = \(idempotencyKey)",
            options: .readOnly
        )
        return try rows.decode(Int.self).first
    }
}

/// A payment: which account pays how much, and the key that makes recording it twice harmless.
public struct Payment: Sendable, Hashable {
    /// Chosen by the caller, once per payment; retries reuse it.
    public var idempotencyKey: String
    /// The paying account.
    public var accountID: Int
    /// The amount, in cents.
    public var amountCents: Int

    /// A payment.
    public init(idempotencyKey: String, accountID: Int, amountCents: Int) {
        self.idempotencyKey = idempotencyKey
        self.accountID = accountID
        self.amountCents = amountCents
    }
}

/// How recording a payment ended.
public enum RecordingOutcome: Sendable, Hashable {
    /// The payment was recorded now.
    case recorded
    /// A payment with the same idempotency key was recorded before; nothing changed.
    case alreadyRecorded
}

/// Why a payment could not be recorded, in the app's terms.
public enum PaymentsError: Error, Hashable {
    /// The database's answer was lost: the payment may or may not be recorded.
    case outcomeUnknown(idempotencyKey: String)
    /// The database could not be reached in time; nothing was recorded.
    case databaseUnavailable
}
