/// An idempotency key, as it appears in `/orders/{key}`: 1 to 100 letters, digits, `-`, `_`, `.` or `~`
/// (but not `.` or `..` alone).
///
/// These are the characters a URL path carries unescaped, so a key reads the same in the path, in the database and
/// in the `Location` header. Clients typically send a UUID.
public struct OrderKey: Sendable, Hashable, CustomStringConvertible {
    /// The key's text.
    public let text: String

    /// The longest key accepted.
    public static let maximumLength = 100

    /// The key, or nil when `text` is not a valid key.
    public init?(_ text: String) {
        guard (1...Self.maximumLength).contains(text.utf8.count), text.utf8.allSatisfy(Self.isAllowed),
            text != ".", text != ".."  // path segments that clients resolve away
        else {
            return nil
        }
        self.text = text
    }

    /// The key's text.
    public var description: String { text }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
            UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}
