import ResilientPostgres

/// Whether a transfer whose `COMMIT` answer was lost is settled by the client before it decides, the one place that
/// choice is made.
///
/// Verified, the transfer runs with the client's built-in commit verification (``OperationOptions/verifiedCommit``):
/// a commit marker goes with its `COMMIT`, and a lost answer is resolved on the current primary, the transfer
/// acknowledged if it applied and run again if not. Unverified, such a transfer is reported as an unknown outcome.
enum CommitVerification: String, CaseIterable, Sendable {
    case verified
    case unverified

    /// Runs `transfer` as one transaction block; returns normally when it is known to be applied.
    func commit(_ transfer: Transfer, isolation: Transfer.Isolation, through client: PostgresClient) async throws {
        switch self {
        case .unverified:
            try await client.transaction { try await transfer.run(in: $0, isolation: isolation) }
        case .verified:
            try await client.transaction(options: .verifiedCommit) {
                try await transfer.run(in: $0, isolation: isolation)
            }
        }
    }
}
