/// A notification the server delivered to a session that runs `LISTEN` on its channel (`NOTIFY`, `pg_notify`).
public struct PostgresNotification: Sendable, Hashable {
    /// The channel it was sent on, exactly as the sender named it.
    public var channel: String
    /// The payload; empty when the sender gave none.
    public var payload: String
    /// The server process of the session that sent it (its `pg_backend_pid()`).
    public var backendPID: Int32

    /// A notification from its fields.
    public init(channel: String, payload: String, backendPID: Int32) {
        self.channel = channel
        self.payload = payload
        self.backendPID = backendPID
    }
}
