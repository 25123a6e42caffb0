extension FailureFacts {
    /// Who made the failure: the server or network (``reported``), or the connection layer itself.
    ///
    /// A failure the connection layer makes is classified by its kind first, whatever the message says.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        enum Value: Hashable, Sendable {
            case reported, connectDeadlineExpired, deadlineExpired, cancelled, commitRolledBack, invalidParameter
        }

        let value: Value

        private init(_ value: Value) { self.value = value }

        /// Reported by the server or libpq; classified by SQLSTATE and message.
        public static let reported = Kind(.reported)
        /// The library's own connect deadline expired (libpq's non-blocking connect enforces none): unreachable.
        public static let connectDeadlineExpired = Kind(.connectDeadlineExpired)
        /// The operation's deadline expired and the statement was cancelled or the connection closed. Not retried.
        public static let deadlineExpired = Kind(.deadlineExpired)
        /// The caller cancelled the operation. Not retried.
        public static let cancelled = Kind(.cancelled)
        /// `COMMIT` was answered with the command tag `ROLLBACK`: the transaction had already failed and nothing
        /// was committed. Not retried: the block swallowed an earlier error and would likely do so again.
        public static let commitRolledBack = Kind(.commitRolledBack)
        /// A parameter could not be sent (for example a NUL byte in a text value). Permanent; nothing was sent.
        public static let invalidParameter = Kind(.invalidParameter)

        /// The kind's name.
        public var description: String {
            switch value {
            case .reported: "reported"
            case .connectDeadlineExpired: "connect deadline expired"
            case .deadlineExpired: "deadline expired"
            case .cancelled: "cancelled"
            case .commitRolledBack: "COMMIT rolled back"
            case .invalidParameter: "invalid parameter"
            }
        }
    }
}
