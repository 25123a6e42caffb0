public import PostgresTransport

/// What a listener needs of a session beyond running statements: waiting for the notifications the server
/// delivers to it, and the process id it sends them from.
///
/// ``LibPQConnection`` implements it; so does a `ScriptedDatabase`'s session. A session that does not cannot
/// serve a listener.
package protocol NotificationReceiving: DatabaseConnection {
    /// The id of the session's server process, as notifications the session sends itself carry it.
    ///
    /// Behind a pooler it is the pooler's made-up id, which no notification carries: how a listener finds out.
    var notificationProcessID: Int32 { get }
    /// Waits until notifications arrive and returns every one received so far, in order, or an empty array when
    /// `deadline` passes first.
    ///
    /// Throws a `TransportError` when the session is lost while it waits (`connectionLost`, with the SQLSTATE the
    /// server sent before closing, if any) or the task is cancelled (`cancelled`).
    func receiveNotifications(until deadline: ContinuousClock.Instant?) async throws -> [PostgresNotification]
}

extension LibPQConnection: NotificationReceiving {
    package nonisolated var notificationProcessID: Int32 { backendPID }
}
