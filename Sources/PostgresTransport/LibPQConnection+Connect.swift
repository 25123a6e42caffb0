import Foundation

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
        // libpq resolves host names and may wait on the network inside PQconnectStartParams and PQconnectPoll,
        // so the connect runs on a thread of its own, never on Swift's cooperative threads, and is left to finish
        // there when the deadline passes or the task is cancelled first.
        let outcome = await ConnectAttempt(parameters: parameters, deadline: deadline).connect()
        switch outcome {
        case .success(let handle):
            return LibPQConnection(handle: handle, options: options)
        case .failure(let error):
            throw error
        }
    }
}
