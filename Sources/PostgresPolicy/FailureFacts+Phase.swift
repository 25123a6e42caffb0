extension FailureFacts {
    /// How far an attempt got before it failed, which bounds what the server may have done.
    ///
    /// Only ``sent`` and ``commitInFlight`` can leave a write's outcome unknown.
    public struct Phase: Hashable, Sendable, CustomStringConvertible {
        enum Value: Hashable, Sendable {
            case connecting, notSent, sent, commitInFlight
        }

        let value: Value

        private init(_ value: Value) { self.value = value }

        /// Opening the connection (DNS, TCP, TLS, authentication); no statement existed on the server.
        public static let connecting = Phase(.connecting)
        /// Connected, but not one byte of the statement reached the socket.
        public static let notSent = Phase(.notSent)
        /// The statement was sent (inside a transaction block: a statement before `COMMIT`).
        public static let sent = Phase(.sent)
        /// `COMMIT` was sent and its answer had not arrived.
        public static let commitInFlight = Phase(.commitInFlight)

        /// Whether any part of the request may have reached the server.
        public var mayHaveReachedServer: Bool { value == .sent || value == .commitInFlight }

        /// The phase's name.
        public var description: String {
            switch value {
            case .connecting: "connecting"
            case .notSent: "not sent"
            case .sent: "sent"
            case .commitInFlight: "COMMIT in flight"
            }
        }
    }
}
