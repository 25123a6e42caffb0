internal import CLibPQ

/// libpq connection options (`host`, `port`, `dbname`, `user`, `password`, `sslmode`, ...), in order.
///
/// Built from a libpq connection string (`host=a,b port=5432 dbname=app`) or a `postgresql://` URL, which libpq
/// itself parses (`PQconninfoParse`), so every form and option libpq accepts is accepted here, and nothing else.
/// Multi-host lists pass through to libpq unchanged. The description never shows the password.
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
    ///   which names the offending option (`invalid connection option "hots"`) or position.
    public init(_ connectionString: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let parsed = PQconninfoParse(connectionString, &errorMessage) else {
            let reason = errorMessage.map { String(cString: $0) } ?? "out of memory"
            errorMessage.map { PQfreemem($0) }
            throw TransportError(
                code: .invalidConnectionString,
                message: reason.trimmingTrailingWhitespace(),
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
    /// The options as a connection string, with the password shown as `********`.
    public var description: String {
        options.map { option in
            let value = option.keyword == "password" ? "********" : option.value
            return "\(option.keyword)=\(value)"
        }.joined(separator: " ")
    }
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        var text = Substring(self)
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }
}
