import Foundation
import PostgresTransport
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A loopback server that speaks just enough of PostgreSQL's v3 protocol for libpq to open a session and send
/// statements, and replies to each with scripted messages.
///
/// It serves one session on a thread of its own: it accepts the startup (declining TLS and GSS encryption if asked),
/// reports a PostgreSQL 15 server, then for each scripted ``Reply`` reads a statement's messages up to its `Sync` and
/// replies; once the script is done, it reads until the client leaves. Every wait is bounded by ``timeout`` (each
/// accept and each read), so the thread always ends.
final class FakeServer: Sendable {
    /// A message the server sends in answer to the statement.
    enum Message: Sendable {
        case parseComplete
        case bindComplete
        case noData
        /// `CommandComplete` with this command tag (`COMMIT`, `INSERT 0 1`).
        case commandComplete(String)
        /// `ErrorResponse` with these fields: severity (both the localized and the non-localized one), SQLSTATE and
        /// primary message.
        case error(severity: String, sqlState: String, message: String)

        /// `RowDescription` of text columns with these names, in the text format.
        case rowDescription([String])
        /// `DataRow` with these values, as text.
        case dataRow([String])

        /// What PostgreSQL sends when it acts on `pg_terminate_backend` (or a smart or fast shutdown).
        static let terminated = Message.error(
            severity: "FATAL", sqlState: "57P01", message: "terminating connection due to administrator command"
        )

        var bytes: [UInt8] {
            switch self {
            case .parseComplete: return FakeServer.message("1", [])
            case .bindComplete: return FakeServer.message("2", [])
            case .noData: return FakeServer.message("n", [])
            case .commandComplete(let tag): return FakeServer.message("C", FakeServer.cString(tag))
            case .rowDescription(let names):
                // Each field: its name, table OID and column (none), type OID (text), length (variable), type
                // modifier (none) and format (text).
                let fields = names.flatMap { name in
                    FakeServer.cString(name) + FakeServer.int32Bytes(0) + FakeServer.int16Bytes(0)
                        + FakeServer.int32Bytes(25) + FakeServer.int16Bytes(-1) + FakeServer.int32Bytes(-1)
                        + FakeServer.int16Bytes(0)
                }
                return FakeServer.message("T", FakeServer.int16Bytes(Int16(names.count)) + fields)
            case .dataRow(let values):
                let columns = values.flatMap { FakeServer.int32Bytes(Int32($0.utf8.count)) + Array($0.utf8) }
                return FakeServer.message("D", FakeServer.int16Bytes(Int16(values.count)) + columns)
            case .error(let severity, let sqlState, let message):
                let fields: [(Unicode.Scalar, String)] = [
                    ("S", severity), ("V", severity), ("C", sqlState), ("M", message),
                ]
                let body: [UInt8] = fields.flatMap { [UInt8(ascii: $0.0)] + FakeServer.cString($0.1) } + [0]
                return FakeServer.message("E", body)
            }
        }
    }

    /// What the server does once it has read a statement's `Sync`.
    enum Reply: Sendable {
        /// Writes these messages, then ends the connection like a backend that exits (no `ReadyForQuery`).
        case answerAndExit([Message])
        /// Writes these messages and `ReadyForQuery` (idle).
        case answer([Message])
        /// Waits for a cancel request (a connection of its own to the listener), then answers as ``answer(_:)``.
        case answerOnCancel([Message])
        /// Nothing: the answer was written ahead of the statement, with ``answerAhead(_:)``.
        case answeredAhead
        /// Writes these messages without `ReadyForQuery`, which the test writes later with ``answerAhead(_:)``: the
        /// statement's end comes after the rest of its answer.
        case answerEndingLater([Message])
    }

    /// The longest the server waits for a connection, and for each read from it: generous, as a loaded machine or a
    /// sanitizer's run can stall a client for seconds, and a test that passes never waits for it.
    static let timeout: Duration = .seconds(30)

    private let listener: SilentListener
    private let replies: [Reply]
    /// Whether the listening socket is still open; the thread closes it, under this lock, when it ends.
    private let isListening = Mutex(true)
    private let statement = Mutex<String?>(nil)
    /// The session's socket while it is served; closed, under this lock, when the serving ends.
    private let session = Mutex<Int32?>(nil)

    /// Starts serving one connection, whose one statement is answered with `answer`, after which the server exits.
    convenience init(answer: [Message]) throws {
        try self.init(replies: [.answerAndExit(answer)])
    }

    /// Starts serving one connection, replying to its statements in turn with `replies`.
    init(replies: [Reply]) throws {
        listener = try SilentListener()
        self.replies = replies
        try Self.prepare(listener.descriptor)
        let thread = Thread { [self] in
            serve()
            isListening.withLock { listening in
                listener.close()
                listening = false
            }
        }
        thread.name = "FakeServer"
        thread.start()
    }

    /// Connection parameters for this server, with TLS and GSS encryption off (the server declines them anyway).
    var parameters: ConnectionParameters {
        ConnectionParameters(options: [
            "host": "127.0.0.1", "port": String(listener.port), "user": "app", "dbname": "app",
            "sslmode": "disable", "gssencmode": "disable", "connect_timeout": "5",
        ])
    }

    /// The SQL of the statement the client sent (its `Parse` message), once the server has read it.
    var receivedStatement: String? { statement.withLock { $0 } }

    /// Writes `messages` and `ReadyForQuery` to the session before the client sends the statement they answer
    /// (scripted as ``Reply/answeredAhead``). libpq reads nothing between statements, so the whole answer is waiting
    /// in the client's socket when it sends the statement. Returns false if the session is over or the write failed.
    func answerAhead(_ messages: [Message]) -> Bool {
        session.withLock { session in
            guard let session else { return false }
            return Self.write(session, messages.flatMap(\.bytes) + Self.readyForQuery)
        }
    }

    /// Stops waiting for a connection. A connection being served ends on its own, within ``timeout`` at most.
    func close() {
        isListening.withLock { listening in
            // shutdown wakes a thread still blocked in accept; close alone does not.
            if listening { _ = shutdown(listener.descriptor, Int32(SHUT_RDWR)) }
        }
    }

    // MARK: - Serving

    private func serve() {
        let connection = accept(listener.descriptor, nil, nil)
        guard connection >= 0 else { return }
        session.withLock { $0 = connection }
        defer {
            session.withLock { session in
                Self.close(connection)
                session = nil
            }
        }
        guard (try? Self.prepare(connection)) != nil, startSession(connection) else { return }
        var pending = replies[...]
        // PQsendQueryParams sends Parse, Bind, Describe, Execute and Sync. Past the script, reads until the client
        // leaves, so that the session stays open as long as the client uses it.
        while let (type, body) = Self.readMessage(connection) {
            if type == UInt8(ascii: "P") {
                let strings = body.split(separator: 0, omittingEmptySubsequences: false)
                if strings.count > 1 { statement.withLock { $0 = String(decoding: strings[1], as: UTF8.self) } }
            }
            guard type == UInt8(ascii: "S"), let reply = pending.popFirst() else { continue }
            switch reply {
            case .answerAndExit(let messages):
                Self.write(connection, messages.flatMap(\.bytes))
                _ = shutdown(connection, Int32(SHUT_WR))
                return
            case .answer(let messages):
                Self.write(connection, messages.flatMap(\.bytes) + Self.readyForQuery)
            case .answerOnCancel(let messages):
                guard acceptCancelRequest() else { return }
                Self.write(connection, messages.flatMap(\.bytes) + Self.readyForQuery)
            case .answeredAhead:
                break
            case .answerEndingLater(let messages):
                Self.write(connection, messages.flatMap(\.bytes))
            }
        }
    }

    /// Accepts a connection carrying a `CancelRequest` and closes it, which tells libpq's `PQcancel` that the request
    /// was processed; false if none came in time.
    private func acceptCancelRequest() -> Bool {
        let connection = accept(listener.descriptor, nil, nil)
        guard connection >= 0 else { return false }
        defer { Self.close(connection) }
        guard (try? Self.prepare(connection)) != nil, let request = Self.read(connection, count: 16) else {
            return false
        }
        return Self.int32(request, at: 4) == 80_877_102
    }

    /// Reads the startup packet, declining SSLRequest and GSSENCRequest first, and answers it as a PostgreSQL 15
    /// server that needs no password.
    private func startSession(_ connection: Int32) -> Bool {
        while true {
            guard let header = Self.read(connection, count: 4) else { return false }
            let length = Int(Self.int32(header, at: 0))
            guard length >= 8, length < 10_000, let body = Self.read(connection, count: length - 4) else {
                return false
            }
            switch Self.int32(body, at: 0) {
            case 80_877_103, 80_877_104:  // SSLRequest, GSSENCRequest
                Self.write(connection, [UInt8(ascii: "N")])
            case 196_608:  // protocol 3.0
                var reply = Self.message("R", Self.int32Bytes(0))  // AuthenticationOk
                for (name, value) in [
                    ("server_version", "15.0"), ("client_encoding", "UTF8"), ("standard_conforming_strings", "on"),
                    ("integer_datetimes", "on"), ("in_hot_standby", "off"),
                ] {
                    reply += Self.message("S", Self.cString(name) + Self.cString(value))
                }
                reply += Self.message("K", Self.int32Bytes(4242) + Self.int32Bytes(24_242))  // BackendKeyData
                reply += Self.readyForQuery
                return Self.write(connection, reply)
            default:
                return false
            }
        }
    }

    // MARK: - Wire format

    /// A message: its type byte, then its length (counting itself) and body.
    static func message(_ type: Character, _ body: [UInt8]) -> [UInt8] {
        [type.asciiValue!] + int32Bytes(Int32(body.count + 4)) + body
    }

    static func cString(_ text: String) -> [UInt8] { Array(text.utf8) + [0] }

    /// `ReadyForQuery`, idle.
    private static let readyForQuery = message("Z", [UInt8(ascii: "I")])

    private static func int32Bytes(_ value: Int32) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian, Array.init)
    }

    private static func int16Bytes(_ value: Int16) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian, Array.init)
    }

    private static func int32(_ bytes: [UInt8], at offset: Int) -> Int32 {
        bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int32($1) }
    }

    /// One frontend message after the startup: its type byte and body; nil at end of stream, an error or a timeout.
    private static func readMessage(_ connection: Int32) -> (type: UInt8, body: [UInt8])? {
        guard let header = read(connection, count: 5) else { return nil }
        let length = Int(int32(header, at: 1))
        guard length >= 4, length < 1_000_000, let body = read(connection, count: length - 4) else { return nil }
        return (header[0], body)
    }

    // MARK: - Sockets

    /// Exactly `count` bytes; nil at end of stream, an error or a timeout.
    private static func read(_ descriptor: Int32, count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let received = bytes.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress! + done, count - done, 0) }
            if received < 0, errno == EINTR { continue }
            guard received > 0 else { return nil }
            done += received
        }
        return bytes
    }

    @discardableResult
    private static func write(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
        var done = 0
        while done < bytes.count {
            let sent = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress! + done, bytes.count - done, noSignal) }
            if sent < 0, errno == EINTR { continue }
            guard sent > 0 else { return false }
            done += sent
        }
        return true
    }

    /// A write to a connection the client has closed fails with EPIPE rather than raising SIGPIPE (on Darwin,
    /// ``prepare(_:)`` sets `SO_NOSIGPIPE` instead).
    #if canImport(Glibc)
    private static let noSignal = Int32(MSG_NOSIGNAL)
    #else
    private static let noSignal: Int32 = 0
    #endif

    /// Bounds every accept, read and write on `descriptor` by ``timeout``.
    private static func prepare(_ descriptor: Int32) throws {
        var limit = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        let size = socklen_t(MemoryLayout<timeval>.size)
        guard setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, size) == 0,
              setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &limit, size) == 0
        else { throw POSIXError(.EINVAL) }
        #if canImport(Darwin)
        var on: Int32 = 1
        _ = setsockopt(descriptor, SOL_SOCKET, SO_NOSIGPIPE, &on, socklen_t(MemoryLayout<Int32>.size))
        #endif
    }

    private static func close(_ descriptor: Int32) {
        #if canImport(Glibc)
        _ = Glibc.close(descriptor)
        #else
        _ = Darwin.close(descriptor)
        #endif
    }
}
