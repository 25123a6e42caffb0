import ResilientPostgres

/// Whether a transfer whose `COMMIT` answer was lost is looked up before the client decides, the one place that
/// choice is made.
///
/// Verified, the client asks whether the transfer's log entry exists: a transfer found there is acknowledged, one
/// not found is run again. Unverified, such a transfer is reported as an unknown outcome.
enum CommitVerification: String, CaseIterable, Sendable {
    case verified
    case unverified

    /// Runs `transfer` as one transaction block; returns normally when it is known to be applied.
    func commit(_ transfer: Transfer, isolation: Transfer.Isolation, through client: PostgresClient) async throws {
        switch self {
        case .unverified:
            try await client.transaction { try await transfer.run(in: $0, isolation: isolation) }
        case .verified:
            _ = try await client.transaction(verifyingWith: { client in
                try await client.query(
                    "SELECT 1 FROM bank_transfers WHERE id = \(transfer.id)", options: .readOnly
                ).decode(Int.self).isEmpty == false
            }) { try await transfer.run(in: $0, isolation: isolation) }
        }
    }
}
