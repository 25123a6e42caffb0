public import PostgresPolicy

// SQLState's own `~=` operators belong to the Policy module, which an app does not import, and Swift looks for an
// operator only in the modules a file imports: without these, `catch SQLState.uniqueViolation` would not compile
// in an app, and `case SQLState.Class.integrityConstraintViolation:` would compare with `==` and never match a
// code. They are generic, so that where Policy's are visible as well (inside this package) Policy's, which are
// not, are chosen, and the two never clash.

/// A value that SQLSTATE patterns match in `switch` and `catch`: ``SQLState``, a code or a whole class.
///
/// It lets the matching operators work with `import ResilientPostgres` alone; nothing else needs to conform.
public protocol SQLStatePattern: Equatable {
    /// Whether `value` is present and is this code, or belongs to this class.
    func matches(_ value: Self?) -> Bool
}

extension SQLState: SQLStatePattern {}

/// Whether `value` is `pattern`, or belongs to it when `pattern` is a class (`case "23":` matches `23505`).
public func ~= <Pattern: SQLStatePattern>(pattern: Pattern, value: Pattern) -> Bool {
    pattern.matches(value)
}

/// Whether `value` is present and is `pattern`, or belongs to it when `pattern` is a class.
public func ~= <Pattern: SQLStatePattern>(pattern: Pattern, value: Pattern?) -> Bool {
    pattern.matches(value)
}

/// Whether `error` carries a SQLSTATE (``SQLStateReporting``: ``PostgresError`` and ``TransportError`` do) that is
/// `pattern`, or belongs to it when `pattern` is a class: what `catch SQLState.uniqueViolation` asks.
public func ~= <Failure: Error>(pattern: SQLState, error: Failure) -> Bool {
    pattern.matches((error as? any SQLStateReporting)?.sqlState)
}
