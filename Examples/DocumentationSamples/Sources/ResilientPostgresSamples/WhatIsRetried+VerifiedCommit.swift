import ResilientPostgres

/// The sample of "What is retried, and what is not" for `OperationOptions.verifiedCommit`.
extension WhatIsRetried {
    /// Moves money between two accounts once, even when the answer to its `COMMIT` is lost.
    package static func transfer(amount: Int, from: Int, to: Int, client: PostgresClient) async throws -> Int {
        let transferID = try await client.transaction(options: .verifiedCommit) { tx in
            try await tx.execute("UPDATE accounts SET balance = balance - \(amount) WHERE id = \(from)")
            try await tx.execute("UPDATE accounts SET balance = balance + \(amount) WHERE id = \(to)")
            return try await tx.query(
                "INSERT INTO transfers (source, target, amount) VALUES (\(from), \(to), \(amount)) RETURNING id"
            ).decode(Int.self)[0]
        }
        return transferID
    }
}
