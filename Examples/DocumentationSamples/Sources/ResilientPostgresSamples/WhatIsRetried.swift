import ResilientPostgres

/// The sample of "What is retried, and what is not", and of `execute(_:options:verifyingWith:)`.
package enum WhatIsRetried {
    /// Records a payment once: if the answer to its `INSERT` is lost, the payment's key tells whether it was applied.
    package static func recordPayment(
        key: String, amount: Int, client: PostgresClient
    ) async throws -> VerifiedOutcome<Int> {
        let outcome = try await client.execute(
            "INSERT INTO payments (key, amount) VALUES (\(key), \(amount))",
            verifyingWith: { client in
                try await client.query("SELECT 1 FROM payments WHERE key = \(key)", options: .readOnly).count == 1
            }
        )
        return outcome
    }
}
