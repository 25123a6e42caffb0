/// Why a listener stopped for good: it cannot work where it is connected, and trying again would not help.
public struct ListenerError: Error, Sendable, CustomStringConvertible {
    /// What is wrong. Codes can be added without breaking a `switch` with a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case behindPooler
            case sessionCannotListen
            case invalidChannelName
        }

        private let base: Base

        /// The session is not the server's own: a pooler (PgBouncer, Azure's port 6432) stands between. In
        /// transaction mode notifications go to whichever client holds the server session at the time, if any; a
        /// pooler in session mode is refused too unless ``ListenOptions/refusesPoolers`` is turned off, as the
        /// listener cannot tell the modes apart.
        public static let behindPooler = Code(base: .behindPooler)
        /// The session cannot wait for notifications (a test double that does not deliver them).
        public static let sessionCannotListen = Code(base: .sessionCannotListen)
        /// A channel name is empty, longer than 63 bytes or contains NUL, or no channel was given.
        public static let invalidChannelName = Code(base: .invalidChannelName)

        public var description: String {
            switch base {
            case .behindPooler: "behind a pooler"
            case .sessionCannotListen: "session cannot listen"
            case .invalidChannelName: "invalid channel name"
            }
        }
    }

    /// What is wrong.
    public var code: Code
    /// What the listener saw, and what to do about it.
    public var message: String
    /// The host the session was on.
    public var host: String?
    /// The port the session was on.
    public var port: Int?

    /// An error from its facts.
    public init(code: Code, message: String, host: String? = nil, port: Int? = nil) {
        self.code = code
        self.message = message
        self.host = host
        self.port = port
    }

    public var description: String {
        let endpoint = host.map { " (\($0)\(port.map { ":\($0)" } ?? ""))" } ?? ""
        return "ListenerError(\(code)\(endpoint): \(message))"
    }
}
