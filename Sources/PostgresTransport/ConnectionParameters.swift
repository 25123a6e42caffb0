internal import CLibPQ

/// libpq connection options (`host`, `port`, `dbname`, `user`, `password`, `sslmode`, ...), in order.
///
/// Built from a libpq connection string (`host=a,b port=5432 dbname=app`) or a `postgresql://` URL, which libpq
/// itself parses (`PQconninfoParse`), so every form and option libpq accepts is accepted here, and nothing else.
/// Multi-host lists are kept as given; ``LibPQConnection/connect(_:timeout:options:)`` tries their hosts one at a
/// time, in order. The description never shows the password.
public struct ConnectionParameters: Sendable, Hashable {
    /// One option: a libpq keyword and its value.
    public struct Option: Sendable, Hashable {
        /// The libpq keyword, such as `host` or `sslmode`.
        public var keyword: String
        /// The value.
        public var value: String
    }

    /// The options that are set, in libpq's order.
    public private(set) var options: [Option]

    /// Parses a libpq connection string or a `postgresql://` URL.
    ///
    /// - Throws: ``TransportError`` with code ``TransportError/Code/invalidConnectionString`` and libpq's reason,
    ///   which names the offending option (`invalid connection option "hots"`) or position. When the text may hold
    ///   a password, the part of the reason that quotes the text is shown as `"…"`. A NUL byte is refused: libpq
    ///   would read the text only up to it. So is a host name with an `@`, which is what libpq makes of a URL whose
    ///   password holds an `@` that is not written `%40`.
    public init(_ connectionString: String) throws {
        guard !connectionString.utf8.contains(0) else {
            throw TransportError(
                code: .invalidConnectionString,
                message: "the connection string contains a NUL byte",
                phase: .connecting,
                isConnectionUsable: false
            )
        }
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let parsed = PQconninfoParse(connectionString, &errorMessage) else {
            let reason = errorMessage.map { String(cString: $0) } ?? "out of memory"
            errorMessage.map { PQfreemem($0) }
            throw TransportError(
                code: .invalidConnectionString,
                message: Self.redactingQuotedInput(reason.trimmingTrailingWhitespace(), of: connectionString),
                phase: .connecting,
                isConnectionUsable: false
            )
        }
        defer { PQconninfoFree(parsed) }
        var options: [Option] = []
        var entry = parsed
        while let keyword = entry.pointee.keyword {
            if let value = entry.pointee.val {
                options.append(Option(keyword: String(cString: keyword), value: String(cString: value)))
            }
            entry += 1
        }
        // libpq splits a URL at its first `@`: in `postgresql://app:pa@ss@db.example.com/app` the password is `pa`
        // and the host `ss@db.example.com`, which would then be shown (in errors, logs, events) as a host name,
        // and part of the password with it. A host name never holds an `@`.
        if options.contains(where: { $0.keyword == "host" && $0.value.contains("@") }) {
            throw TransportError(
                code: .invalidConnectionString,
                message: "a host name cannot contain \"@\": in a URL, write an \"@\" of the user name or password as %40",
                phase: .connecting,
                isConnectionUsable: false
            )
        }
        self.options = options
    }

    /// Options from keyword-value pairs, in the given order. Keywords are checked by libpq when connecting.
    public init(options: KeyValuePairs<String, String>) {
        self.options = options.map { Option(keyword: $0.key, value: $0.value) }
    }

    /// The value of an option, or nil when it is not set. Setting nil removes the option.
    public subscript(keyword: String) -> String? {
        get { options.last { $0.keyword == keyword }?.value }
        set {
            options.removeAll { $0.keyword == keyword }
            if let newValue { options.append(Option(keyword: keyword, value: newValue)) }
        }
    }
}

extension ConnectionParameters: CustomStringConvertible {
    /// The options as a connection string, with the password (and the TLS key's `sslpassword`) shown as `********`.
    public var description: String {
        options.map(\.description).joined(separator: " ")
    }
}

extension ConnectionParameters.Option: CustomStringConvertible {
    /// `keyword=value`, with the value of `password` and `sslpassword` shown as `********`.
    public var description: String {
        "\(keyword)=\(ConnectionParameters.secretKeywords.contains(keyword) ? "********" : value)"
    }
}

extension ConnectionParameters {
    /// The options whose values are secrets, never shown.
    static let secretKeywords: Set<String> = ["password", "sslpassword"]

    /// libpq's reason for refusing a connection string, without the text it quotes when that text may hold a
    /// password: libpq quotes the offending part of the input, which can be the password itself
    /// (`invalid percent-encoded token: "s3%zzcret"`) or the whole URL, userinfo included.
    ///
    /// Everything from the first quoted fragment longer than one character (a one-character one, such as `"="`,
    /// names a separator) to the last quote is replaced by `"…"`.
    static func redactingQuotedInput(_ reason: String, of input: String) -> String {
        guard mayHoldSecret(input) else { return reason }
        let characters = Array(reason)
        var start: Int?
        var index = 0
        while index < characters.count {
            if characters[index] == "\"" {
                if index + 2 < characters.count, characters[index + 2] == "\"" {
                    index += 3  // a one-character fragment such as "=" or "]"
                    continue
                }
                start = index
                break
            }
            index += 1
        }
        guard let start else { return reason }
        let end = characters.lastIndex(of: "\"").flatMap { $0 > start ? $0 : nil } ?? characters.count - 1
        return String(characters[..<start]) + "\"…\"" + String(characters[(end + 1)...])
    }

    /// Whether a connection string may hold a password: it names one (`password=`, `sslpassword=`, `?password=`),
    /// or it is a URL whose user information has a `:` (`postgresql://user:secret@host`).
    private static func mayHoldSecret(_ input: String) -> Bool {
        let lowered = input.lowercased()
        if lowered.contains("password") { return true }
        guard let scheme = lowered.range(of: "://") else { return false }
        let authority = lowered[scheme.upperBound...].prefix { $0 != "/" && $0 != "?" }
        guard let at = authority.lastIndex(of: "@") else { return false }
        return authority[..<at].contains(":")
    }
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        var text = Substring(self)
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }
}
