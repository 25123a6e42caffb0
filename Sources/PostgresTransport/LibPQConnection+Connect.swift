internal import CLibPQ
import Foundation
import Synchronization

extension LibPQConnection {
    /// Opens a session, within `timeout` (the library's own connect deadline, across every host libpq tries).
    ///
    /// - Throws: ``TransportError`` with phase ``TransportError/Phase/connecting``: ``TransportError/Code/connectFailed``
    ///   with the server's SQLSTATE when it sent one (28P01 wrong password, 3D000 no such database, 57P03 starting
    ///   up or shutting down, 53300 too many clients) or libpq's message when it did not (connection refused, host
    ///   name not resolved); ``TransportError/Code/connectDeadlineExceeded``; ``TransportError/Code/cancelled``.
    public static func connect(
        _ parameters: ConnectionParameters,
        timeout: Duration = .seconds(10),
        options: Options = Options()
    ) async throws -> LibPQConnection {
        try await connect(parameters, deadline: .now.advanced(by: timeout), options: options)
    }

    /// Opens a session before `deadline`. See ``connect(_:timeout:options:)``.
    public static func connect(
        _ parameters: ConnectionParameters,
        deadline: ContinuousClock.Instant,
        options: Options = Options()
    ) async throws -> LibPQConnection {
        if Task.isCancelled {
            throw TransportError(code: .cancelled, message: "cancelled before connecting", phase: .connecting,
                                 isConnectionUsable: false)
        }
        var parameters = parameters
        if parameters["client_encoding"] == nil {
            // Swift strings are UTF-8; so is every text value exchanged with the server.
            parameters["client_encoding"] = "UTF8"
        }
        let attempt = ConnectAttempt(parameters: parameters, deadline: deadline)
        // libpq resolves host names and may wait on the network inside PQconnectStartParams and PQconnectPoll,
        // so the whole connect runs on a thread of its own, never on Swift's cooperative threads.
        let outcome = await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in
                let thread = Thread {
                    continuation.resume(returning: attempt.run())
                }
                thread.name = "ResilientPostgres.connect"
                thread.start()
            }
        } onCancel: {
            attempt.cancel()
        }
        switch outcome {
        case .success(let handle):
            return LibPQConnection(handle: handle, options: options)
        case .failure(let error):
            throw error
        }
    }
}

/// A connection handed from the connecting thread to its owner.
struct ConnectionHandle: @unchecked Sendable {
    // @unchecked Sendable: the PGconn is handed over exactly once, from the thread that connected it (which never
    // touches it again) to the LibPQConnection that owns it from then on.
    let raw: OpaquePointer
}

/// One non-blocking connect (`PQconnectStartParams` + `PQconnectPoll`), driven by socket readiness on the calling
/// thread and bounded by a deadline, which libpq does not enforce for asynchronous connects.
final class ConnectAttempt: Sendable {
    private let parameters: ConnectionParameters
    private let deadline: ContinuousClock.Instant
    private let isCancelled = Atomic<Bool>(false)
    /// How often a waiting connect looks at `isCancelled`.
    private static let cancellationCheckInterval = Duration.milliseconds(50)

    init(parameters: ConnectionParameters, deadline: ContinuousClock.Instant) {
        self.parameters = parameters
        self.deadline = deadline
    }

    func cancel() {
        isCancelled.store(true, ordering: .relaxed)
    }

    /// Connects, blocking the calling thread (never a cooperative one) until connected, failed, past the deadline or
    /// cancelled.
    func run() -> Result<ConnectionHandle, TransportError> {
        guard let connection = start() else {
            return .failure(TransportError(code: .connectFailed, message: "out of memory", phase: .connecting,
                                           isConnectionUsable: false))
        }
        // The SQLSTATE only reaches a connect failure's message with verbose errors, set before the first poll.
        PQsetErrorVerbosity(connection, PQERRORS_VERBOSE)
        if PQstatus(connection) == CONNECTION_BAD {
            return .failure(fail(connection))
        }
        // "If PQconnectStart succeeds, ... act as if it last returned PGRES_POLLING_WRITING."
        var status = PGRES_POLLING_WRITING
        while true {
            switch status {
            case PGRES_POLLING_OK:
                guard PQsetnonblocking(connection, 1) == 0 else {
                    return .failure(fail(connection))
                }
                return .success(ConnectionHandle(raw: connection))
            case PGRES_POLLING_FAILED:
                return .failure(fail(connection))
            default:
                // The socket can change between polls (libpq moves on to the next host or address).
                let interest: SocketReadiness.Interest = status == PGRES_POLLING_READING ? .readable : .writable
                if let error = waitForSocket(of: connection, interest) {
                    PQfinish(connection)
                    return .failure(error)
                }
                status = PQconnectPoll(connection)
            }
        }
    }

    private func start() -> OpaquePointer? {
        let keywords = parameters.options.map { strdup($0.keyword) } + [nil]
        let values = parameters.options.map { strdup($0.value) } + [nil]
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        return keywords.map { UnsafePointer($0) }.withUnsafeBufferPointer { keywords in
            values.map { UnsafePointer($0) }.withUnsafeBufferPointer { values in
                PQconnectStartParams(keywords.baseAddress, values.baseAddress, 0)
            }
        }
    }

    /// Waits until the socket is ready; returns the error that ends the connect instead, if any.
    private func waitForSocket(of connection: OpaquePointer, _ interest: SocketReadiness.Interest) -> TransportError? {
        let descriptor = PQsocket(connection)
        while true {
            if isCancelled.load(ordering: .relaxed) {
                return TransportError(code: .cancelled, message: "cancelled while connecting",
                                      host: Self.host(of: connection), port: Self.port(of: connection),
                                      phase: .connecting, isConnectionUsable: false)
            }
            let now = ContinuousClock.now
            if now >= deadline {
                return TransportError(code: .connectDeadlineExceeded,
                                      message: "no session established before the connect deadline",
                                      host: Self.host(of: connection), port: Self.port(of: connection),
                                      phase: .connecting, isConnectionUsable: false)
            }
            let sliceEnd = min(deadline, now.advanced(by: Self.cancellationCheckInterval))
            if SocketReadiness.pollDescriptor(descriptor, for: interest, until: sliceEnd) == .ready {
                return nil
            }
        }
    }

    private func fail(_ connection: OpaquePointer) -> TransportError {
        let error = TransportError.fromConnectMessage(
            String(cString: PQerrorMessage(connection)),
            host: Self.host(of: connection),
            port: Self.port(of: connection)
        )
        PQfinish(connection)
        return error
    }

    static func host(of connection: OpaquePointer) -> String? {
        PQhost(connection).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    static func port(of connection: OpaquePointer) -> Int? {
        PQport(connection).flatMap { Int(String(cString: $0)) }
    }
}
