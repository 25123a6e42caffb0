/// A payment into an account, and the key that makes recording it twice harmless.
public struct Payment: Hashable, Sendable {
    /// Chosen once per payment by whoever sends it; a retry of the same payment reuses it.
    public var key: String
    public var amount: Cents

    public init(key: String, amount: Cents) {
        self.key = key
        self.amount = amount
    }
}

/// How recording a payment ended.
public enum Outcome: Hashable, Sendable {
    /// Recorded now, or found recorded by an attempt whose answer was lost.
    case recorded
    /// A payment with the same key was recorded before: nothing changed.
    case duplicate
    /// The database refused it: it would overdraw the account, or the account does not exist.
    case rejected
}
