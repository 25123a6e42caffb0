/// The statements a listener sends, shared with the test doubles that answer them.
package enum ListenStatement {
    /// `LISTEN` on `channel`, as a quoted identifier: exact, case and all, as `pg_notify` takes it.
    package static func listen(_ channel: String) -> String {
        "LISTEN \"" + channel.replacing("\"", with: "\"\"") + "\""
    }

    /// Where the session is (the server's start time, which a restart changes), and, on servers that have it,
    /// `idle_session_timeout` turned off for this session alone: a listener's session is idle by design, and the
    /// timeout would only end it every so often with a gap.
    package static let whereabouts = """
        SELECT pg_postmaster_start_time()::text, CASE WHEN current_setting('idle_session_timeout', true) IS NOT NULL \
        THEN set_config('idle_session_timeout', '0', false) END
        """

    /// The probe: a notification the session sends itself, channel and token bound.
    package static let probe = "SELECT pg_notify($1, $2)"
}
