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

    /// Inserts a user, telling the failures apart by their SQLSTATE, and an unknown outcome by its class.
    package static func insertUser(email: String, client: PostgresClient) async throws {
        do {
            try await client.execute("INSERT INTO users (email) VALUES (\(email))")
        } catch SQLState.uniqueViolation {
            // taken
        } catch SQLState.Class.integrityConstraintViolation {
            // another constraint: not null, foreign key, check
        } catch let error as PostgresError where error.errorClass == .outcomeUnknown {
            // check before running it again
        }
    }
}
