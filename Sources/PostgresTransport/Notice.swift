public import PostgresPolicy

/// A notice or warning the server sent alongside a statement (`NOTICE`, `WARNING`, ...), as facts.
///
/// Some causes of a lost connection arrive only as a WARNING notice just before the socket closes: 57P01 on an
/// immediate shutdown, 57P02 when another backend crashed. ``TransportError`` keeps such a notice's SQLSTATE.
public struct Notice: Sendable, Hashable {
    /// The non-localized severity: `WARNING`, `NOTICE`, `INFO`, `LOG` or `DEBUG`.
    public var severity: FailureFacts.Severity?
    /// The SQLSTATE.
    public var sqlState: SQLState?
    /// The primary message. It can quote data values.
    public var message: String
    /// The DETAIL, if any.
    public var detail: String?
    /// The HINT, if any.
    public var hint: String?

    /// Makes a notice from its fields.
    public init(
        severity: FailureFacts.Severity?,
        sqlState: SQLState?,
        message: String,
        detail: String? = nil,
        hint: String? = nil
    ) {
        self.severity = severity
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.hint = hint
    }
}
