import ResilientPostgres

/// The tables the store uses.
public enum AccountsSchema {
    /// Creates the tables, if they do not exist, and an account with a zero balance.
    public static func create(on client: PostgresClient, accountID: Int) async throws {
        try await client.transaction { tx in
            try await tx.execute("""
                CREATE TABLE IF NOT EXISTS accounts (
                    id int PRIMARY KEY,
                    balance_cents bigint NOT NULL CHECK (balance_cents >= 0)
                )
                """)
            try await tx.execute("""
                CREATE TABLE IF NOT EXISTS payments (
                    key text PRIMARY KEY,
                    account_id int NOT NULL REFERENCES accounts,
                    amount_cents bigint NOT NULL,
                    recorded_at timestamptz NOT NULL DEFAULT now()
                )
                """)
            try await tx.execute("""
                INSERT INTO accounts (id, balance_cents) VALUES (\(accountID), \(Cents(0))) ON CONFLICT DO NOTHING
                """)
        }
    }
}
