extension FailureFacts {
    /// The severity PostgreSQL attached to a message (`ERROR`, `FATAL`, `WARNING`, ...).
    ///
    /// Tells an error the server reported for the statement (it did not take effect) apart from a notice that
    /// only preceded a dropped connection (the server said nothing about the statement).
    public struct Severity: Hashable, Sendable, CustomStringConvertible {
        /// The severity's text in uppercase, for example `FATAL`.
        public let name: String

        /// Creates a severity from the non-localized field (`PG_DIAG_SEVERITY_NONLOCALIZED`), or the localized one
        /// when the server omits it, as pgbouncer does.
        public init(_ name: String) {
            self.name = name.uppercased()
        }

        /// The statement failed; the session survives.
        public static let error = Severity("ERROR")
        /// The session ended; the server rolled back what it was doing.
        public static let fatal = Severity("FATAL")
        /// The whole server is restarting.
        public static let panic = Severity("PANIC")
        /// A warning notice: not an error by itself.
        public static let warning = Severity("WARNING")
        /// A notice: not an error by itself.
        public static let notice = Severity("NOTICE")

        /// Whether the server reported an error (`ERROR`, `FATAL`, `PANIC`) rather than a notice.
        public var isError: Bool { self == .error || self == .fatal || self == .panic }

        /// The severity's text.
        public var description: String { name }
    }
}
