import Foundation
import PostgresTransport
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A loopback server that speaks just enough of PostgreSQL's v3 protocol for libpq to open a session and send one
/// statement, answers that statement with scripted messages, and closes the connection.
///
/// It serves one connection on a thread of its own: it accepts the startup (declining TLS and GSS encryption if
/// asked), reports a PostgreSQL 15 server, reads the statement's messages up to its `Sync`, writes the scripted answer,
/// and closes. Every wait is bounded by ``timeout`` (the accept and each read), so the thread always ends.
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
            case .error(let severity, let sqlState, let message):
                let fields: [(Unicode.Scalar, String)] = [
                    ("S", severity), ("V", severity), ("C", sqlState), ("M", message),
                ]
                let body: [UInt8] = fields.flatMap { [UInt8(ascii: $0.0)] + FakeServer.cString($0.1) } + [0]
                return FakeServer.message("E", body)
            }
        }
    }

    /// The longest the server waits for a connection, and for each read from it.
    static let timeout: Duration = .seconds(3)

    private let listener: SilentListener
    private let answer: [Message]
    /// Whether the listening socket is still open; the thread closes it, under this lock, when it ends.
    private let isListening = Mutex(true)
    private let statement = Mutex<String?>(nil)

    /// Starts serving one connection, whose statement is answered with `answer`.
    init(answer: [Message]) throws {
        listener = try SilentListener()
        self.answer = answer
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
        defer { Self.close(connection) }
        guard (try? Self.prepare(connection)) != nil, startSession(connection) else { return }
        // PQsendQueryParams sends Parse, Bind, Describe, Execute and Sync.
        while let (type, body) = Self.readMessage(connection) {
            if type == UInt8(ascii: "P") {
                let strings = body.split(separator: 0, omittingEmptySubsequences: false)
                if strings.count > 1 { statement.withLock { $0 = String(decoding: strings[1], as: UTF8.self) } }
            }
            if type == UInt8(ascii: "S") {
                Self.write(connection, answer.flatMap(\.bytes))
                // Like a backend that exits: the answer, then end of stream (no ReadyForQuery).
                _ = shutdown(connection, Int32(SHUT_WR))
                return
            }
        }
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
                reply += Self.message("Z", [UInt8(ascii: "I")])  // ReadyForQuery, idle
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

    private static func int32Bytes(_ value: Int32) -> [UInt8] {
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
