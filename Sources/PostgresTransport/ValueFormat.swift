/// The wire format of a value: PostgreSQL's text format, or its binary format.
public enum ValueFormat: Int32, Sendable, Hashable {
    /// Values as text, as `psql` prints them.
    case text = 0
    /// Values in PostgreSQL's binary wire format (big-endian integers, IEEE 754 floats, raw `bytea`).
    case binary = 1
}
