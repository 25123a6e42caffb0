import PostgresTransport

extension ConnectFault {
    /// The facts a libpq connect reports for this fault, parsed from libpq's own text by the transport's parser;
    /// nil for the faults that only delay or change the session.
    package func transportError(host: String, port: Int) -> TransportError? {
        guard case .libpqMessage(let template) = kind else { return nil }
        let text = template.replacing("HOST", with: host).replacing("PORT", with: String(port))
        return TransportError.fromConnectMessage(text, host: host, port: port)
    }

    /// What the library reports when its connect deadline passes before a session opens.
    package static func deadlineError(host: String?, port: Int?) -> TransportError {
        TransportError(
            code: .connectDeadlineExceeded, message: "no session established before the connect deadline",
            host: host, port: port, phase: .connecting, isConnectionUsable: false
        )
    }

    /// What the library reports when the connecting task is cancelled.
    package static func cancelledError(host: String?, port: Int?) -> TransportError {
        TransportError(
            code: .cancelled, message: "cancelled while connecting",
            host: host, port: port, phase: .connecting, isConnectionUsable: false
        )
    }
}
