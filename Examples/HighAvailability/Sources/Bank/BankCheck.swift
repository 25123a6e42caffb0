import HASupport
import ResilientPostgres

/// What the tables say after a run, against what the workers were told.
struct BankCheck: CustomStringConvertible {
    var transfers: Int
    var acknowledged: Int
    /// Acknowledged once the last disruption was over: proof that the bank recovered.
    var acknowledgedAfterDisruptions: Int
    var unknown: Int
    /// The total never changed, no account is below zero, and every balance is its opening balance plus what the
    /// transfer log says it received, less what it paid.
    var balanceOK: Bool
    var lost: Int
    var duplicated: Int
    /// Transfers reported as failed (or declined) yet in the log.
    var phantoms: Int
    var details: [String]

    static func run(
        _ admin: PostgresClient, entries: Ledger.Entries, declined: Set<String>, accounts: Int, opening: Int,
        lastDisruption: ContinuousClock.Instant
    ) async throws -> BankCheck {
        let balances = try await admin.query("SELECT id, balance FROM bank_accounts ORDER BY id", options: .readOnly)
            .decode((Int, Int).self)
        let log = try await admin.query("SELECT id, payer, payee, amount FROM bank_transfers", options: .readOnly)
            .decode((String, Int, Int, Int).self)
        var expected = [Int: Int](uniqueKeysWithValues: (1...accounts).map { ($0, opening) })
        var counts: [String: Int] = [:]
        for (id, payer, payee, amount) in log {
            expected[payer, default: 0] -= amount
            expected[payee, default: 0] += amount
            counts[id, default: 0] += 1
        }
        let total = balances.reduce(0) { $0 + $1.1 }
        let negative = balances.filter { $0.1 < 0 }
        let mismatched = balances.filter { expected[$0.0] != $0.1 }
        var details: [String] = []
        if total != accounts * opening { details.append("total \(total), not \(accounts * opening)") }
        if !negative.isEmpty { details.append("\(negative.count) accounts below zero") }
        if !mismatched.isEmpty { details.append("\(mismatched.count) balances disagree with the transfer log") }
        if balances.count != accounts { details.append("\(balances.count) accounts, not \(accounts)") }

        let ledger = LedgerCheck(entries, counts: counts)
        let declinedPresent = declined.filter { counts[$0] != nil }.count
        if ledger.phantoms + declinedPresent > 0 {
            details.append("\(ledger.phantoms + declinedPresent) transfers reported as not applied are in the log")
        }
        return BankCheck(
            transfers: entries.acknowledged.count + entries.unknown.count + entries.failed.count + declined.count,
            acknowledged: ledger.acknowledged,
            acknowledgedAfterDisruptions: entries.acknowledged.values.filter { $0 > lastDisruption }.count,
            unknown: ledger.unknown, balanceOK: details.isEmpty || (
                total == accounts * opening && negative.isEmpty && mismatched.isEmpty && balances.count == accounts),
            lost: ledger.lost, duplicated: ledger.duplicated, phantoms: ledger.phantoms + declinedPresent,
            details: details
        )
    }

    /// The data is whole, and the run proves something: transfers were acknowledged, some after the last disruption.
    var passed: Bool {
        balanceOK && lost == 0 && duplicated == 0 && phantoms == 0 && acknowledged > 0
            && acknowledgedAfterDisruptions > 0
    }

    var description: String {
        """
        transfers=\(transfers) acknowledged=\(acknowledged) after_disruptions=\(acknowledgedAfterDisruptions) \
        unknown=\(unknown) balance_ok=\(balanceOK) lost=\(lost) duplicated=\(duplicated)
        """
    }
}
