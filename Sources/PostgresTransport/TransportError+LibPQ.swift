internal import CLibPQ
import PostgresPolicy

// The one place where libpq's reports of failure become `TransportError` values.

extension TransportError {
    /// The facts of an error result (`PGRES_FATAL_ERROR`), read field by field, for the statement it answered.
    ///
    /// An error result without an SQLSTATE is one libpq made itself, such as "server closed the connection
    /// unexpectedly"; on a broken connection it is reported as ``Code/connectionLost``. `statement` is kept as the
    /// caller's string (a reference, not a copy).
    static func fromErrorResult(
        _ result: OpaquePointer,
        statement: String?,
        phase: Phase,
        endpoint: Endpoint,
        isConnectionUsable: Bool
    ) -> TransportError {
        let fields = DiagnosticFields(result)
        let message = fields.message ?? String(cString: PQresultErrorMessage(result)).trimmingTrailingWhitespace()
        return TransportError(
            code: fields.sqlState == nil && !isConnectionUsable ? .connectionLost : .server,
            sqlState: fields.sqlState,
            severity: fields.severity,
            message: message.isEmpty ? "unknown error" : message,
            detail: fields.detail,
            hint: fields.hint,
            position: fields.position,
            host: endpoint.host,
            port: endpoint.port,
            phase: phase,
            isConnectionUsable: isConnectionUsable,
            statement: statement
        )
    }

    /// The facts of a failure that libpq reported only through `PQerrorMessage` (a failed send, flush or read).
    static func fromConnectionMessage(
        _ connection: OpaquePointer,
        code: Code,
        phase: Phase,
        endpoint: Endpoint,
        isConnectionUsable: Bool
    ) -> TransportError {
        let message = String(cString: PQerrorMessage(connection)).trimmingTrailingWhitespace()
        return TransportError(
            code: code,
            message: message.isEmpty ? "\(code)" : message,
            host: endpoint.host,
            port: endpoint.port,
            phase: phase,
            isConnectionUsable: isConnectionUsable
        )
    }

    /// The facts of a failed connect, parsed from libpq's message (there is no `PGresult` during connect).
    ///
    /// With `PQERRORS_VERBOSE` set right after `PQconnectStartParams`, a server's refusal reads
    /// `connection to server at "h" (addr), port p failed: FATAL:  28P01: password authentication failed ...`,
    /// followed by `DETAIL:`, `HINT:` and `LOCATION:` lines. With several hosts (or addresses) there is one such
    /// block per attempt; the facts are those of the last one, the attempt that ended the connect, except the host
    /// names, which are read from every block: a block naming an address shows its name resolved, and
    /// ``hostNamesNotFound`` is filled when every block is a lookup the resolver answered with "does not exist".
    package static func fromConnectMessage(_ text: String, host: String?, port: Int?) -> TransportError {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        let blockStarts = lines.indices.filter { index in
            lines[index].hasPrefix("connection to server ") || lines[index].hasPrefix("could not ")
        }
        let blockStart = blockStarts.last ?? lines.startIndex
        var error = TransportError(
            code: .connectFailed,
            message: "connect failed",
            host: host,
            port: port,
            phase: .connecting,
            isConnectionUsable: false
        )
        guard blockStart < lines.endIndex else { return error }
        error.readHostNames(from: blockStarts.map { lines[$0] })

        var head = Substring(lines[blockStart])
        if head.hasPrefix("connection to server at \"") {
            // connection to server at "HOST" (ADDR), port PORT failed: REST
            let afterQuote = head.dropFirst("connection to server at \"".count)
            if let closing = afterQuote.firstIndex(of: "\"") {
                error.host = String(afterQuote[..<closing])
            }
            if let portRange = head.range(of: ", port "),
               let failed = head.range(of: " failed: ", range: portRange.upperBound..<head.endIndex)
            {
                error.port = Int(head[portRange.upperBound..<failed.lowerBound]) ?? error.port
                head = head[failed.upperBound...]
            }
        } else if head.hasPrefix("connection to server on socket "), let failed = head.range(of: " failed: ") {
            head = head[failed.upperBound...]
        }
        // REST is either "SEVERITY:  SQLSTATE: message" from the server, or libpq's own text.
        let severities = ["FATAL", "ERROR", "PANIC", "WARNING"]
        if let severity = severities.first(where: { head.hasPrefix($0 + ":  ") }) {
            let rest = head.dropFirst(severity.count + 3)
            error.severity = Severity(severity)
            if rest.count >= 7, rest.dropFirst(5).hasPrefix(": "), rest.prefix(5).allSatisfy(\.isSQLStateCharacter),
                let sqlState = SQLState(rest.prefix(5))
            {
                error.sqlState = sqlState
                error.message = String(rest.dropFirst(7))
            } else {
                error.message = String(rest)
            }
        } else {
            error.message = String(head)
        }
        for line in lines[(blockStart + 1)...] {
            if line.hasPrefix("DETAIL:  ") {
                error.detail = String(line.dropFirst("DETAIL:  ".count))
            } else if line.hasPrefix("HINT:  ") {
                error.hint = String(line.dropFirst("HINT:  ".count))
            } else if line.hasPrefix("\t"), error.hint == nil {
                // libpq's own advice, e.g. "Is the server running on that host and accepting TCP/IP connections?"
                error.hint = String(line.dropFirst())
            }
        }
        return error
    }

    /// Reads which host names resolved and which do not exist from the first line of each attempt's block.
    ///
    /// `connection to server at "NAME" (ADDR), port …` shows that NAME resolved (a numeric host has no `(ADDR)`);
    /// `could not translate host name "NAME" to address: REASON` that its lookup failed, where REASON is
    /// `gai_strerror`'s text: `Name or service not known` (glibc) or `nodename nor servname provided, or not known`
    /// (BSD, macOS) for `EAI_NONAME`, the resolver's "no such name"; anything else (`Temporary failure in name
    /// resolution`, a DNS timeout or server failure) says nothing of whether the name exists.
    private mutating func readHostNames(from heads: [Substring]) {
        var notFound: [String] = []
        var everyAttemptNotFound = !heads.isEmpty
        for head in heads {
            if let name = head.quotedName(after: "connection to server at \""),
               head.dropFirst("connection to server at \"".count + name.count + 1).hasPrefix(" (")
            {
                if !resolvedHostNames.contains(name) { resolvedHostNames.append(name) }
            }
            let reason = head.range(of: "\" to address: ").map { head[$0.upperBound...].lowercased() } ?? ""
            if let name = head.quotedName(after: "could not translate host name \""),
               Self.nameNotFoundReasons.contains(where: reason.contains)
            {
                if !notFound.contains(name) { notFound.append(name) }
            } else {
                everyAttemptNotFound = false
            }
        }
        hostNamesNotFound = everyAttemptNotFound ? notFound : []
    }

    /// `gai_strerror(EAI_NONAME)` as glibc and the BSDs word it, in lowercase.
    private static let nameNotFoundReasons = ["name or service not known", "nodename nor servname provided"]
}

extension Substring {
    /// The text between `prefix` (which ends with a quote) and the next quote, if the line starts with `prefix`.
    fileprivate func quotedName(after prefix: String) -> String? {
        guard hasPrefix(prefix) else { return nil }
        let rest = dropFirst(prefix.count)
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }
}

extension Character {
    fileprivate var isSQLStateCharacter: Bool {
        isASCII && (isNumber || isUppercase)
    }
}

/// The fields of an error or notice result (`PQresultErrorField`), read in one place for both.
struct DiagnosticFields {
    var severity: FailureFacts.Severity?
    var sqlState: SQLState?
    var message: String?
    var detail: String?
    var hint: String?
    var position: Int?

    init(_ result: OpaquePointer) {
        func field(_ code: Int32) -> String? {
            PQresultErrorField(result, code).map { String(cString: $0) }
        }
        // pgbouncer omits the non-localized severity; fall back to the localized one.
        severity = (field(CLibPQ_DIAG_SEVERITY_NONLOCALIZED) ?? field(CLibPQ_DIAG_SEVERITY)).map { .init($0) }
        sqlState = field(CLibPQ_DIAG_SQLSTATE).flatMap { SQLState($0) }
        message = field(CLibPQ_DIAG_MESSAGE_PRIMARY)
        detail = field(CLibPQ_DIAG_MESSAGE_DETAIL)
        hint = field(CLibPQ_DIAG_MESSAGE_HINT)
        position = field(CLibPQ_DIAG_STATEMENT_POSITION).flatMap { Int($0) }
    }
}

/// The host and port a connection is to, as libpq reports them.
struct Endpoint: Sendable {
    var host: String?
    var port: Int?
}
