public import Logging
public import PostgresPolicy
public import PostgresTransport

extension PostgresClient {
    /// Everything a client needs: where the database is, how to retry, and how many sessions to keep.
    public struct Configuration: Sendable {
        /// libpq connection options: hosts (several, for failover), port, database, user, password, TLS.
        ///
        /// Options left unset fall back to libpq's environment variables (`PGHOST`, `PGPORT`, `PGDATABASE`,
        /// `PGUSER`, `PGPASSWORD`, `PGSSLMODE`, ...) and defaults, exactly as `psql` does.
        public var connection: ConnectionParameters
        /// Where new sessions get their password (an access token, for passwordless sign-in), instead of
        /// ``connection``'s; `nil` (the default) signs in with the connection options.
        ///
        /// Called only for a new session, when the credential it returned last is due for a refresh; see
        /// ``CredentialProvider``.
        public var credentials: CredentialProvider?
        /// How failed operations are retried, and each operation's time budget (60 s by default).
        public var retryPolicy: RetryPolicy = .default
        /// The most sessions open at once. Managed tiers allow 50 to a few hundred in all, shared by every
        /// instance of an app: the default, 10, leaves room for several.
        public var maxConnections: Int = 10
        /// The fewest idle sessions the client keeps open, ready for a burst (0: none).
        ///
        /// Kept up by the client's housekeeping from its first operation on (from the start, when it runs as a
        /// `Service`); while the server refuses sessions for want of slots, no more are opened than operations need.
        public var minimumIdleConnections: Int = 0
        /// Idle sessions are closed after this long, whether or not the client runs as a `Service`.
        ///
        /// The default, 30 seconds, is half an operation's default budget: a fleet of clients sharing a small server
        /// gives back the slots it does not use well before another client's operations give up waiting for one.
        /// While the server refuses this client sessions for want of slots (53300), a session no operation waits
        /// for is closed at once instead (beyond the minimum idle ones).
        public var idleTimeout: Duration = .seconds(30)
        /// Sessions are replaced after this long, so they follow DNS and configuration changes.
        public var maxLifetime: Duration = .seconds(1800)
        /// A session idle for longer is checked with a round trip before it is lent out.
        public var livenessCheckAfterIdle: Duration = .seconds(30)
        /// The longest one connect may take (across every host listed), within the operation's budget.
        public var connectTimeout: Duration = .seconds(10)
        /// The longest one connect waits for each host of a multi-host list before it moves on to the next, unless
        /// the connection options set libpq's `connect_timeout` (which then bounds every host, a single one too).
        ///
        /// A host that accepts connections and never answers, like a frozen old primary listed first, holds each
        /// connect this long. The default, 5 seconds, is well above what a healthy server needs to set up a session
        /// (TLS and authentication included, even under load), and lets the second of two hosts have a full turn
        /// within the default ``connectTimeout``; keep it below ``connectTimeout``. `nil` lets the first host take
        /// the whole connect timeout. A single host is not limited by it.
        public var hostConnectTimeout: Duration? = .seconds(5)
        /// How long the server gets to answer a cancel request before the session is closed as hung.
        public var cancelGracePeriod: Duration = .seconds(5)
        /// While the database is unreachable, the waits between the pool's reconnect attempts.
        ///
        /// One prober per client reconnects on this schedule while operations wait for it (they do not each
        /// connect), and they resume as soon as it succeeds. The default, full jitter from 50 ms doubling to a cap of
        /// 500 ms, finds a promoted standby or a restarted server within about half a second at one connect attempt
        /// per interval.
        public var reconnectBackoff: Backoff = .exponentialFullJitter(base: .milliseconds(50), cap: .milliseconds(500))
        /// The shared retry throttle: retries stop while most attempts fail. `nil` turns it off.
        public var retryThrottle: RetryThrottleSettings? = RetryThrottleSettings()
        /// Whether `query` and `execute` use named prepared statements. The default, ``StatementCaching/unnamed``,
        /// uses only the unnamed statement, which works behind PgBouncer in transaction mode.
        public var statementCaching: StatementCaching = .unnamed
        /// Where the client logs retries, reconnects and give-ups (never passwords or bound values).
        public var logger: Logger = Logger(label: "ResilientPostgres")
        /// The prefix of every swift-metrics label the client reports (`postgres_client_attempts_total`, ...).
        ///
        /// Metrics go to whatever `MetricsSystem` the app bootstrapped; none is reported until it does.
        public var metricsLabelPrefix: String = "postgres_client"
        /// Called for every attempt of every operation, on the operation's task, before the client acts on it.
        ///
        /// For apps that want their own view of retries (an audit line, a test's timeline). Keep it fast; it must
        /// not block.
        public var onAttempt: (@Sendable (AttemptEvent) -> Void)?

        /// A configuration from libpq connection options.
        ///
        /// Unless the options say otherwise, sessions target a read-write server (`target_session_attrs=read-write`,
        /// so that after a failover the client finds the new primary among the hosts listed), TCP keepalives are on
        /// (`keepalives_idle=10`, `keepalives_interval=5`, `keepalives_count=3`: an idle session to a dead peer is
        /// noticed in about 25 seconds rather than hours), and `tcp_user_timeout=25000` bounds how long sent data
        /// may stay unacknowledged (a peer that vanished mid-statement is noticed as soon).
        public init(connection: ConnectionParameters) {
            var connection = connection
            let defaults: KeyValuePairs<String, String> = [
                "target_session_attrs": "read-write",
                "keepalives": "1",
                "keepalives_idle": "10",
                "keepalives_interval": "5",
                "keepalives_count": "3",
                "tcp_user_timeout": "25000",
            ]
            for (keyword, value) in defaults where connection[keyword] == nil {
                connection[keyword] = value
            }
            self.connection = connection
        }

        /// A configuration from a libpq connection string (`host=a,b dbname=app`) or a `postgresql://` URL.
        ///
        /// - Throws: `TransportError` with code `invalidConnectionString`, naming the option or position libpq
        ///   could not accept.
        public init(_ connectionString: String) throws {
            self.init(connection: try ConnectionParameters(connectionString))
        }
    }
}

/// The size of a client's retry throttle (a token bucket; see `RetryThrottle`).
public struct RetryThrottleSettings: Sendable, Hashable {
    /// The bucket's size, 1 to 1000: about twice the number of failures absorbed at once before retries stop.
    public var maxTokens: Int
    /// The tokens a success gives back.
    public var tokenRatio: Double

    /// Settings with the defaults: 50 tokens, 0.2 back per success.
    public init(maxTokens: Int = 50, tokenRatio: Double = 0.2) {
        self.maxTokens = maxTokens
        self.tokenRatio = tokenRatio
    }
}

extension PostgresClient.Configuration: CustomStringConvertible {
    /// The configuration, with the password shown as `********`.
    public var description: String {
        "Configuration(\(connection), maxConnections: \(maxConnections), budget: \(retryPolicy.budget))"
    }
}
