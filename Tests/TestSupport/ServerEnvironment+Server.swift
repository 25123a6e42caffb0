import PostgresTransport

extension ServerEnvironment {
    /// One server this run started: where it listens, who may log in, and its files.
    public struct Server: Sendable {
        /// The name it was started under (`main`, `tls`, ...), or its port.
        public var name: String
        public var host: String
        public var port: String
        public var superuser: String
        public var database: String
        public var appUser: String
        public var appPassword: String
        /// Its log file (PostgreSQL's or pgbouncer's).
        public var log: String? = nil
        /// The CA certificate that signed a `tls` server's certificate.
        public var rootCertificate: String? = nil

        /// Connection options for the superuser, then `overrides` (which may replace any of them).
        public func parameters(_ overrides: KeyValuePairs<String, String> = [:]) -> ConnectionParameters {
            var parameters = ConnectionParameters(options: [
                "host": host, "port": port, "user": superuser, "dbname": database,
            ])
            for (keyword, value) in overrides { parameters[keyword] = value }
            return parameters
        }

        /// Connection options for the role without superuser rights, with its password, then `overrides`.
        public func appParameters(_ overrides: KeyValuePairs<String, String> = [:]) -> ConnectionParameters {
            var parameters = ConnectionParameters(options: [
                "host": host, "port": port, "user": appUser, "password": appPassword, "dbname": database,
            ])
            for (keyword, value) in overrides { parameters[keyword] = value }
            return parameters
        }
    }
}
