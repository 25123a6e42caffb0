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
        /// Where listeners (``PostgresClient/listen(to:options:)-(String...,_)``) connect, when not where
        /// ``connection`` says: for an app whose pool goes through a pooler in transaction mode (PgBouncer, Azure's
        /// port 6432), which cannot carry `LISTEN`. `nil` (the default) uses ``connection``.
        ///
        /// Options it leaves unset get the same defaults as ``connection``'s (read-write targeting, keepalives,
        /// `tcp_user_timeout`); the password comes from ``credentials`` when that is set.
        public var listenConnection: ConnectionParameters?
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
        /// The most sessions the client opens at once; an operation that needs one more waits for one of those
        /// connects to end, or for a session to come back.
        ///
        /// When a server restarts, every session of every instance of an app drops at once, and each pool would
        /// refill all its slots in the same instant: the sum is the connection storm that meets the server as it
        /// comes back. A fleet of instances sharing one small server may set 1 or 2 to bound each instance's share
        /// of it (see <doc:RunningAFleet>). The default is no limit: an app on its own fills a cold pool in one
        /// connect's time, where a limit of 2 would queue the tenth operation of a burst behind five connects in
        /// turn (hundreds of milliseconds each with TLS and a token to fetch); the fleet runs, whose attempt rate
        /// the machine bounded, showed lower attempt peaks at restarts with a limit, and no failed operation only
        /// with ``connectJitter`` as well. At least 1 (smaller counts as 1).
        public var maxConcurrentConnects: Int = .max
        /// The longest the client holds its connects when a wave of them starts: its first connect, and its first
        /// after it lost sessions (a restart, a failover). Each wave waits a delay drawn at random below this.
        ///
        /// Instances of a fleet started together, or cut off together by a restart, would otherwise all connect in
        /// the same instant; a fleet sharing one small server may set about a second to spread them (see
        /// <doc:RunningAFleet>). While the server is down, the pool's reconnect backoff spreads them already, and
        /// the sessions opened once it answers are not held again. A session lost while others stay idle marks the
        /// next connect as a wave's first however much later it comes (a burst growing the pool, say), which then
        /// waits too. The default, zero, holds nothing: an app on its own would only see its first query wait.
        public var connectJitter: Duration = .zero
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
        ///
        /// The longest a session lives: each one's lifetime is drawn at random up to ``lifetimeJitter`` shorter.
        public var maxLifetime: Duration = .seconds(1800)
        /// How much shorter than ``maxLifetime`` a session's lifetime may be, as a fraction of it (0 to 0.5; more
        /// counts as 0.5, so that no session is drawn a lifetime too short to be worth its connect).
        ///
        /// Each session's lifetime is drawn at random between `maxLifetime × (1 - lifetimeJitter)` and `maxLifetime`,
        /// never above it, so that sessions opened at one moment (a pool filled at start, or after a failover) are
        /// replaced over a window instead of all at once. The default, 0.1, spreads the default 30 minutes over the
        /// last 3; 0 replaces every session exactly at ``maxLifetime``.
        public var lifetimeJitter: Double = 0.1
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
        /// The table where writes with ``OperationOptions/verifiedCommit`` record their commit markers: a name, or
        /// `schema.name`, of letters, digits and underscores.
        ///
        /// Created on first use if missing; see <doc:WhatIsRetried> for its definition, for apps whose role may not
        /// create tables.
        public var commitMarkerTable: String = "resilient_postgres_commit_markers"
        /// Sets up every new session before its first use: `SET`s, `search_path`, `SET ROLE`, prepared statements.
        ///
        /// Session state does not survive a reconnect or a failover, so the client runs it on every session it opens
        /// (for an operation, for the pool's reconnects while the database is unreachable, for the minimum idle
        /// sessions), and again after each reset of a session a `withConnection` or `transaction` closure used
        /// (the reset undoes every `SET`), which adds its round trips to most such operations; a `query`, `execute`
        /// or batch never runs it. For plain settings, role settings (`ALTER ROLE … SET`) cost nothing per session.
        ///
        /// A failure is classified like a failed connect, as nothing of the operation was sent on the session: a
        /// lost session, 57P01 or 53300 is retried within the operation's budget; 42704 from a bad `SET` fails at
        /// once. An error the initializer throws itself ends the operation at once, unchanged, as one thrown in a
        /// `withConnection` closure does. Either way the session is closed, never lent. Its statements are not the
        /// operation's: they never make it "may have been applied". It runs within the operation's budget (or the
        /// connect timeout, for the pool's own connects), which bounds its statements; bound any other wait of its own
        /// (a call to a configuration service), as nothing else does. Use only the session it is given: an operation of the
        /// client itself would wait for a session while this one holds a slot. Behind PgBouncer in transaction mode,
        /// most session settings made here do not stick: see <doc:PgBouncer>.
        public var sessionInitializer: (@Sendable (PostgresConnection) async throws -> Void)?
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
        /// may stay unacknowledged (a peer that vanished mid-statement is noticed as soon). The server sees the
        /// process's name as `application_name` (in `pg_stat_activity`), unless the options or `PGAPPNAME` name one.
        public init(connection: ConnectionParameters) {
            var connection = connection
            let defaults: KeyValuePairs<String, String> = [
                "fallback_application_name": Self.processName,
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

        /// ``lifetimeJitter`` within 0...0.5 (0 for a value that is not a number).
        var lifetimeSpreadFraction: Double {
            lifetimeJitter > 0 ? min(lifetimeJitter, 0.5) : 0
        }

        /// The name the process was started by, without its directory: what `application_name` falls back to.
        static var processName: String {
            CommandLine.arguments.first?.split(separator: "/").last.map(String.init) ?? "ResilientPostgres"
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
