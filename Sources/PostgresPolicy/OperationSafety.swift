/// What an operation allows the policy to repeat, declared by the caller.
///
/// Safety is about the operation; how far a failed attempt got is in ``FailureFacts/phase``. Together they say
/// whether repeating is safe: anything not sent is; a transaction block may be re-run whole until its `COMMIT` is
/// in flight; a read-only or idempotent operation may always be repeated; an autocommit write, or a `COMMIT`, whose
/// answer was lost may have been applied and is never repeated.
public struct OperationSafety: Hashable, Sendable {
    /// Whether the operation is a transaction block (`BEGIN ... COMMIT`), re-run whole on a retry.
    public var isTransactionBlock: Bool
    /// Whether the operation changes nothing, so running it twice is harmless.
    public var isReadOnly: Bool
    /// Whether applying the operation twice has the same effect as once (the caller vouches for it).
    public var isIdempotent: Bool

    /// Creates a safety declaration.
    public init(isTransactionBlock: Bool = false, isReadOnly: Bool = false, isIdempotent: Bool = false) {
        self.isTransactionBlock = isTransactionBlock
        self.isReadOnly = isReadOnly
        self.isIdempotent = isIdempotent
    }

    /// A statement that only reads, retried after any transient failure.
    public static let readOnly = OperationSafety(isReadOnly: true)
    /// A write the caller declared safe to apply twice, retried even when its outcome is unknown.
    public static let idempotent = OperationSafety(isIdempotent: true)
    /// A write in autocommit mode: retried only when it certainly did not take effect.
    public static let autocommitWrite = OperationSafety()
    /// A read-write transaction block: re-run whole unless its `COMMIT` was lost in flight.
    public static let transactionBlock = OperationSafety(isTransactionBlock: true)

    /// Whether repeating the operation is harmless even if it already took effect.
    public var mayRepeat: Bool { isReadOnly || isIdempotent }
}
