import PostgresTransport
import ResilientPostgres

extension ScriptedDatabase {
    /// Sends a notification on `channel` to every session listening on it, as another client's `NOTIFY` would,
    /// from server process `backendPID`.
    ///
    /// A client's own `notify(_:payload:options:)` reaches listeners as well, from the process id of its session,
    /// which is the number of the connect that opened it. A listener's session is lost by
    /// ``terminateSessions(with:)`` and ``beginOutage(_:sessionFault:)`` (which also restarts the server, as
    /// `pg_postmaster_start_time()` tells), at once, while it waits; move ``host`` before a loss to make the next
    /// session a failover's.
    public func notify(_ channel: String, payload: String = "", backendPID: Int32 = 0) {
        notifications.deliver(
            PostgresNotification(channel: channel, payload: payload, backendPID: backendPID),
            toOpen: Set(openSessions)
        )
    }

    /// The built-in answer to what a listener sends (`LISTEN`, its probe's `pg_notify` and where it is), or nil
    /// for any other statement.
    ///
    /// Answered ahead of the rules of ``answer(_:with:)``, so that a broad rule (`.prefix("SELECT")`) does not
    /// shadow it; only a rule for the exact SQL (`.sql("SELECT pg_notify($1, $2)")`), which ``scriptedAnswer(to:)``
    /// looks for first, replaces it.
    func listenerAnswer(to statement: RecordedStatement) -> ScriptedAnswer? {
        if statement.sql.hasPrefix("LISTEN ") {
            notifications.listen(statement.connection, on: Self.channel(listenedBy: statement.sql))
            return .command("LISTEN")
        }
        switch statement.sql {
        case ListenStatement.probe:
            guard let channel = try? statement.parameter(0, as: String.self) else {
                return .fault(.sqlState("22023", message: "pg_notify needs a channel"))
            }
            let payload = (try? statement.parameter(1, as: String.self)) ?? ""
            notify(channel, payload: payload, backendPID: Int32(statement.connection))
            return .value("", column: "pg_notify")
        case ListenStatement.whereabouts:
            return .rows(["pg_postmaster_start_time", "set_config"], [[notifications.serverStartTime, "0"]])
        default:
            return nil
        }
    }

    /// Ends the waits of listening sessions as `fault` would end their next statement.
    func loseListeners(with fault: StatementFault, restarting: Bool) {
        let host = self.host
        let port = self.port
        notifications.loseListeners(
            with: { _ in fault.transportError(for: "", host: host, port: port) }, restarting: restarting
        )
    }

    /// The channel of `LISTEN "name"` or `LISTEN name` (folded to lower case, as the server does).
    static func channel(listenedBy sql: String) -> String {
        let name = sql.dropFirst("LISTEN ".count).trimmingPrefix(while: \.isWhitespace)
        guard name.first == "\"" else { return name.lowercased() }
        return String(name.dropFirst().dropLast()).replacing("\"\"", with: "\"")
    }
}

extension ScriptedSession: NotificationReceiving {
    /// The number of the connect that opened the session, as a scripted server names its process.
    var notificationProcessID: Int32 { Int32(number) }

    func receiveNotifications(until deadline: ContinuousClock.Instant?) async throws -> [PostgresNotification] {
        try await database.notifications.receive(
            number, until: deadline, on: database.clock, host: host, port: port
        )
    }
}
