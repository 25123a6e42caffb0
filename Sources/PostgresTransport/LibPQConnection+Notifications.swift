internal import CLibPQ

extension LibPQConnection {
    /// Waits until the server delivers notifications to this session, and returns every one received so far, in
    /// the order the server sent them; returns an empty array when `deadline` passes first.
    ///
    /// Notifications that arrived while a statement ran are kept by libpq until read here, so none is lost between
    /// a `LISTEN` and this call. The wait is on the connection's I/O thread, like a statement's: no thread blocks.
    /// A connection lost while waiting (the server shut down or terminated the session, the network failed and
    /// keepalives or `tcp_user_timeout` gave up) throws at once, with the SQLSTATE of the message the server sent
    /// before closing (57P01, 57P05, ...), if it sent one.
    ///
    /// - Throws: ``TransportError`` with ``TransportError/Code/connectionLost``, ``TransportError/Code/cancelled``
    ///   when the calling task is cancelled (the session stays usable), ``TransportError/Code/connectionClosed``
    ///   when ``close()`` ends the wait, or ``TransportError/Code/connectionBusy`` while a statement runs.
    public func receiveNotifications(until deadline: ContinuousClock.Instant? = nil) async throws
        -> [PostgresNotification]
    {
        guard let connection else {
            throw TransportError(code: .connectionClosed, message: "the connection is closed",
                                 host: host, port: port, phase: .notSent, isConnectionUsable: false)
        }
        guard !isRunningStatement else {
            throw TransportError(code: .connectionBusy, message: "another statement is running on this connection",
                                 host: host, port: port, phase: .notSent, isConnectionUsable: true)
        }
        // Held like a statement, so that close() ends the wait and no statement starts under it.
        isRunningStatement = true
        defer { isRunningStatement = false }
        // A FATAL read together with the notifications the previous call returned explains the loss this one finds.
        notices.resetKeepingOperatorIntervention()
        let registration = cancellation.begin(descriptor: PQsocket(connection))
        defer { cancellation.end() }
        let cancellation = self.cancellation
        return try await withTaskCancellationHandler {
            try await waitForNotifications(connection, registration: registration, deadline: deadline)
        } onCancel: {
            // Nothing runs on the server to cancel: only the wait ends.
            cancellation.interruptWait()
        }
    }

    private func waitForNotifications(
        _ connection: OpaquePointer,
        registration: SocketReadiness.Registration,
        deadline: ContinuousClock.Instant?
    ) async throws -> [PostgresNotification] {
        while true {
            // "PQconsumeInput normally returns 1 indicating 'no error', but returns 0 if there was some kind of
            // trouble": here, a lost connection. It never blocks; what it read is parsed, notifications included.
            if PQconsumeInput(connection) == 0 || PQstatus(connection) != CONNECTION_OK {
                // What was read before the loss is parsed first: notifications sent before the server closed the
                // session are handed over, and the loss is thrown by the next call; the FATAL that explains it
                // reaches the notice receiver as it is parsed, and is kept for that call.
                let received = Self.takeNotifications(connection)
                if !received.isEmpty { return received }
                var error = TransportError.fromConnectionMessage(
                    connection, code: .connectionLost, phase: .notSent, endpoint: endpoint, isConnectionUsable: false
                )
                // A FATAL the server sent while the session was idle (57P01 at a shutdown, 57P05 after
                // idle_session_timeout) reaches libpq's notice receiver, not a result.
                explain(&error)
                throw error
            }
            let received = Self.takeNotifications(connection)
            if !received.isEmpty { return received }
            if Task.isCancelled {
                throw TransportError(code: .cancelled, message: "cancelled while waiting for notifications",
                                     host: host, port: port, phase: .notSent, isConnectionUsable: true)
            }
            if let deadline, ContinuousClock.now >= deadline { return [] }
            _ = await ioThread.readiness.wait(for: .readable, on: registration, deadline: deadline)
            guard self.connection != nil else {
                throw TransportError(code: .connectionClosed, message: "the connection was closed while waiting",
                                     host: host, port: port, phase: .notSent, isConnectionUsable: false)
            }
        }
    }

    /// Every notification libpq has parsed so far, oldest first (`PQnotifies`, which hands over each `PGnotify`
    /// to be freed with `PQfreemem`).
    private static func takeNotifications(_ connection: OpaquePointer) -> [PostgresNotification] {
        var received: [PostgresNotification] = []
        while let notify = PQnotifies(connection) {
            received.append(PostgresNotification(
                channel: String(cString: notify.pointee.relname),
                payload: String(cString: notify.pointee.extra),
                backendPID: notify.pointee.be_pid
            ))
            PQfreemem(notify)
        }
        return received
    }
}
