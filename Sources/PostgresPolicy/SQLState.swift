/// A PostgreSQL error code (SQLSTATE), or a whole class of them.
///
/// A five-character value such as `"08006"` names one condition; a two-character value such as `"08"` names its
/// class (``Class`` names the common ones). Used as a pattern, a class matches every code in it, so `case "08":`
/// matches `08006`:
///
/// ```swift
/// switch state {
/// case .adminShutdown: "reconnect: the server ended the session"
/// case "53": "wait: the server is out of resources"  // every insufficient-resources code
/// default: "see the server's message"
/// }
/// ```
///
/// A code or a class also matches an error that carries one (``SQLStateReporting``), so a `catch` reads like the
/// condition it handles:
///
/// ```swift
/// do {
///     try await client.execute("INSERT INTO users (email) VALUES (\(email))")
///     return .registered
/// } catch SQLState.uniqueViolation {
///     return .alreadyRegistered  // 23505, one code
/// } catch SQLState.Class.integrityConstraintViolation {
///     return .refused            // any other code of class 23
/// }
/// ```
///
/// `==` compares exactly: `state == SQLState.Class.integrityConstraintViolation` is false for `23505`; match with
/// `~=` (or `case`) to test membership of a class.
///
/// Values are stored packed, so comparing and matching never allocate.
public struct SQLState: Hashable, Sendable {
    /// The characters, one byte each, first character in the lowest byte.
    private let packed: UInt64
    /// Two for a class, five for a condition; for a literal that is neither, ``malformed`` plus the number of its
    /// first bytes kept in `packed` (up to eight).
    private let length: UInt8

    /// The flag in `length` of a value made from a literal that is not a code or a class.
    private static let malformed: UInt8 = 0x80

    /// Creates a code or a class from its text, or returns `nil` unless it is 2 or 5 characters of `0-9` and `A-Z`.
    ///
    /// Lowercase letters are accepted and stored uppercase.
    public init?(_ text: some StringProtocol) {
        guard let state = SQLState(utf8: text.utf8) else { return nil }
        self = state
    }

    private init?(utf8: some Sequence<UInt8>) {
        var packed: UInt64 = 0
        var length: UInt8 = 0
        for byte in utf8 {
            guard length < 5 else { return nil }
            let upper: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"): upper = byte
            case UInt8(ascii: "a")...UInt8(ascii: "z"): upper = byte - 32
            default: return nil
            }
            packed |= UInt64(upper) << (8 * UInt64(length))
            length += 1
        }
        guard length == 2 || length == 5 else { return nil }
        self.init(packed: packed, length: length)
    }

    private init(packed: UInt64, length: UInt8) {
        self.packed = packed
        self.length = length
    }

    /// Whether this value names a whole class (two characters) rather than one condition.
    public var isClass: Bool { length == 2 }

    /// The class this code belongs to: its first two characters (a class is its own class, and so is a value made
    /// from a literal that is not a code).
    public var `class`: SQLState {
        length & Self.malformed == 0 ? SQLState(packed: packed & 0xFFFF, length: 2) : self
    }

    /// The code's text, for example `"57P01"`; for a value made from a literal that is not a code, the literal (its
    /// first eight bytes).
    public var code: String {
        let count = length & ~Self.malformed
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(count))
        for index in 0..<UInt64(count) {
            bytes.append(UInt8(truncatingIfNeeded: packed >> (8 * index)))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether `value` is present and is this code, or belongs to this class: what `~=` asks.
    public func matches(_ value: SQLState?) -> Bool {
        guard let value else { return false }
        return isClass ? self == value.class : self == value
    }

    /// Whether `value` is `pattern`, or belongs to it when `pattern` is a class.
    public static func ~= (pattern: SQLState, value: SQLState) -> Bool {
        pattern.matches(value)
    }

    /// Whether `value` is present and is `pattern`, or belongs to it when `pattern` is a class.
    public static func ~= (pattern: SQLState, value: SQLState?) -> Bool {
        pattern.matches(value)
    }

    /// Whether `error` carries a SQLSTATE (``SQLStateReporting``) that is `pattern`, or belongs to it when
    /// `pattern` is a class: what `catch SQLState.uniqueViolation` asks.
    public static func ~= (pattern: SQLState, error: any Error) -> Bool {
        pattern.matches((error as? any SQLStateReporting)?.sqlState)
    }
}

/// An error that may carry the SQLSTATE the server reported, so that a ``SQLState`` pattern matches it in `catch`.
///
/// Both errors of the client conform: the connection's, thrown inside `transaction` and `withConnection` closures,
/// and the client's, thrown when an operation gives up. `catch let error as any SQLStateReporting` handles either.
public protocol SQLStateReporting: Error {
    /// The SQLSTATE of the failure, or `nil` when the server sent none (a lost connection, a cancel, a refused
    /// connect that never reached a server).
    var sqlState: SQLState? { get }
}

extension SQLState: ExpressibleByStringLiteral {
    /// Creates a code or class from a literal such as `"40001"` or `"08"`.
    ///
    /// A literal that is not 2 or 5 characters of `0-9` and `A-Z` (`"none"`, as in `error.sqlState ?? "none"`) makes
    /// a value that is no code: it prints its own text (up to eight characters), equals only the same literal, and
    /// never matches a SQLSTATE the server sends. It does not trap, since such a literal is most often written
    /// where an error is being handled.
    public init(stringLiteral value: StaticString) {
        if let state = value.withUTF8Buffer({ SQLState(utf8: $0) }) {
            self = state
            return
        }
        var packed: UInt64 = 0
        let count = value.withUTF8Buffer { bytes in
            for (index, byte) in bytes.prefix(8).enumerated() { packed |= UInt64(byte) << (8 * UInt64(index)) }
            return min(bytes.count, 8)
        }
        self.init(packed: packed, length: Self.malformed | UInt8(count))
    }
}

extension SQLState: CustomStringConvertible {
    /// The code's text, for example `57P01`.
    public var description: String { code }
}
