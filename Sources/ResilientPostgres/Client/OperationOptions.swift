import PostgresPolicy

/// What an operation allows the client to do when it fails: the facts about it that only the caller knows.
///
/// By default an operation is treated as a write that must not run twice: it is retried only when nothing of it
/// reached the server, or when the server itself reported that it did not run it. Declare more to allow more.
public struct OperationOptions: Sendable, Hashable {
    /// The operation only reads: running it twice is harmless, so it is retried after any transient failure.
    public var isReadOnly: Bool
    /// The operation may be applied more than once with the same effect (an upsert keyed by an idempotency key,
    /// say): it is retried even when its outcome is unknown.
    public var isIdempotent: Bool
    /// The write commits with a marker, so that when the answer to its `COMMIT` is lost the client finds out
    /// whether it was applied: if it was, the call succeeds; if not, it runs again within the same budget.
    ///
    /// Honoured by ``PostgresClient/transaction(options:isolation:_:)``, ``PostgresClient/execute(_:options:)`` and
    /// ``PostgresClient/batch(_:options:)``. A lost answer found applied leaves `transaction` with the block's value,
    /// but `execute` with 0 and `batch` with empty rows, as their answers were lost: 0 is then no sign that nothing
    /// matched (run a write whose count matters in a `transaction`). Other calls ignore it: `query` (a read has
    /// nothing to verify), `withConnection` (the client cannot put a marker into a session it lends), and the
    /// `verifyingWith:` variants, whose own check decides. See <doc:WhatIsRetried> for the marker table, what the
    /// check costs, and what it guarantees under each kind of replication.
    public var verifiesCommit: Bool

    /// Options with the given declarations.
    public init(isReadOnly: Bool = false, isIdempotent: Bool = false, verifiesCommit: Bool = false) {
        self.isReadOnly = isReadOnly
        self.isIdempotent = isIdempotent
        self.verifiesCommit = verifiesCommit
    }

    /// A write that must not run twice (the default).
    public static let write = OperationOptions()
    /// An operation that only reads.
    public static let readOnly = OperationOptions(isReadOnly: true)
    /// An operation safe to apply more than once.
    public static let idempotent = OperationOptions(isIdempotent: true)
    /// A write that must not run twice, whose lost `COMMIT` answer the client resolves itself (see
    /// ``verifiesCommit``).
    public static let verifiedCommit = OperationOptions(verifiesCommit: true)

    func safety(isTransactionBlock: Bool) -> OperationSafety {
        OperationSafety(isTransactionBlock: isTransactionBlock, isReadOnly: isReadOnly, isIdempotent: isIdempotent)
    }
}
