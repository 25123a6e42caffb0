extension PostgresClient {
    /// Listens on `channels` and returns the events in order: ``ListenEvent/listening`` once, each notification,
    /// and a gap wherever notifications may have been missed.
    ///
    /// ```swift
    /// for try await event in client.listen(to: "prices") {
    ///     switch event {
    ///     case .listening, .gap:
    ///         await reload()  // notifications may have been missed: start from the table
    ///     case .notification(let notification):
    ///         invalidate(Int(notification.payload))
    ///     case .reconnecting:
    ///         break  // the listener is still trying; a gap follows
    ///     }
    /// }
    /// ```
    ///
    /// Each iteration opens a session of its own, outside the pool, where ``Configuration/listenConnection`` says
    /// (or ``Configuration/connection``), targeting the primary as the pool's sessions do. When the session is lost
    /// the listener connects again, after a random moment within the retry policy's first delay and then after its
    /// backoff, for as long as it takes, with no time budget; it runs `LISTEN` again and reports a
    /// ``ListenEvent/gap(_:)`` that says why (restart, failover, network, ...). Keepalives and `tcp_user_timeout`
    /// from the connection options bound how long a dead peer goes unnoticed. A consumer that falls behind gets a
    /// gap in place of what the buffer could not hold (see ``ListenOptions/bufferCapacity``). Leaving the loop or
    /// cancelling its task closes the session.
    ///
    /// Channel names are exact, as `pg_notify` takes them (`NOTIFY Orders` sends on `orders`); each is 1 to 63
    /// bytes, without NUL. See <doc:ListeningForNotifications>.
    ///
    /// - Throws: from the iteration, ``ListenerError`` with code ``ListenerError/Code/behindPooler`` when the
    ///   session turns out to go through a pooler (see ``ListenOptions/refusesPoolers``), or
    ///   ``ListenerError/Code/invalidChannelName`` when no channel is given or a name is not 1 to 63 bytes without
    ///   NUL.
    public func listen(to channels: [String], options: ListenOptions = ListenOptions()) -> PostgresNotifications {
        PostgresNotifications(client: self, channels: channels, options: options)
    }

    /// Listens on `channels`, as the form that takes an array does.
    public func listen(to channels: String..., options: ListenOptions = ListenOptions()) -> PostgresNotifications {
        listen(to: channels, options: options)
    }

    /// Sends a notification on `channel` (`pg_notify`, with the channel and payload bound as parameters), retried
    /// as `options` allow.
    ///
    /// Listeners receive it once the statement commits, which this one does on its own, at once; to notify only if
    /// a transaction commits, run `SELECT pg_notify($1, $2)` inside it. The payload is at most 7,999 bytes.
    ///
    /// - Throws: ``PostgresError`` once retrying is no longer safe or useful.
    public func notify(_ channel: String, payload: String = "", options: OperationOptions = .write) async throws {
        try await execute("SELECT pg_notify(\(channel), \(payload))", options: options)
    }
}
