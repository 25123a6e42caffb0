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
        /// How failed operations are retried, and each operation's time budget (60 s by default).
        public var retryPolicy: RetryPolicy = .default
        /// The most sessions open at once. Managed tiers allow 50 to a few hundred in all, shared by every
        /// instance of an app: the default, 10, leaves room for several.
        public var maxConnections: Int = 10
        /// Idle sessions are closed after this long.
        public var idleTimeout: Duration = .seconds(300)
        /// Sessions are replaced after this long, so they follow DNS and configuration changes.
        public var maxLifetime: Duration = .seconds(1800)
        /// A session idle for longer is checked with a round trip before it is lent out.
        public var livenessCheckAfterIdle: Duration = .seconds(30)
        /// The longest one connect may take (across every host listed), within the operation's budget.
        public var connectTimeout: Duration = .seconds(10)
        /// How long the server gets to answer a cancel request before the session is closed as hung.
        public var cancelGracePeriod: Duration = .seconds(5)
        /// Whether `query` and `execute` use named prepared statements. The default, ``StatementCaching/unnamed``,
        /// uses only the unnamed statement, which works behind PgBouncer in transaction mode.
        public var statementCaching: StatementCaching = .unnamed
        /// Where the client logs retries, reconnects and give-ups (never passwords or bound values).
        public var logger: Logger = Logger(label: "ResilientPostgres")

        /// A configuration from libpq connection options.
        ///
        /// Unless the options say otherwise, sessions target a read-write server (`target_session_attrs=read-write`,
        /// so that after a failover the client finds the new primary among the hosts listed) and TCP keepalives are
        /// on (a dead peer is noticed in about 30 seconds rather than hours).
        public init(connection: ConnectionParameters) {
            var connection = connection
            let defaults: KeyValuePairs<String, String> = [
                "target_session_attrs": "read-write",
                "keepalives": "1",
                "keepalives_idle": "10",
                "keepalives_interval": "5",
                "keepalives_count": "3",
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

extension PostgresClient.Configuration: CustomStringConvertible {
    /// The configuration, with the password shown as `********`.
    public var description: String {
        "Configuration(\(connection), maxConnections: \(maxConnections), budget: \(retryPolicy.budget))"
    }
}
