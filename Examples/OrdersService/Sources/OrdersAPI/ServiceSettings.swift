/// Where the service listens and where its database is, read from the environment.
public struct ServiceSettings: Sendable, Hashable {
    /// A libpq connection string (`host=db dbname=shop`) or a `postgresql://` URL, from `DATABASE_URL`.
    ///
    /// Empty when unset: every option then comes from libpq's own variables (`PGHOST`, `PGPORT`, `PGDATABASE`,
    /// `PGUSER`, `PGPASSWORD`, ...) and defaults, as for `psql`.
    public var databaseURL: String
    /// Where the database password comes from instead, when `DATABASE_TOKEN_COMMAND` names a command that prints a
    /// token; its tokens are good for `DATABASE_TOKEN_LIFETIME` seconds (300 by default).
    public var databaseToken: DatabaseToken?
    /// The address to listen on, from `BIND_HOST`; `127.0.0.1` by default (`0.0.0.0` in a container).
    public var host: String
    /// The TCP port to listen on, from `PORT`; 8080 by default.
    public var port: Int

    /// Settings read from `environment`.
    ///
    /// - Throws: ``InvalidSetting`` when `PORT` is not a port number, or `DATABASE_TOKEN_LIFETIME` not a number of
    ///   seconds.
    public init(environment: [String: String]) throws {
        databaseURL = environment["DATABASE_URL"] ?? ""
        if let command = environment["DATABASE_TOKEN_COMMAND"], !command.isEmpty {
            var token = DatabaseToken(command: command)
            if let text = environment["DATABASE_TOKEN_LIFETIME"] {
                guard let seconds = Int(text), seconds > 0 else {
                    throw InvalidSetting(variable: "DATABASE_TOKEN_LIFETIME", expected: "a number of seconds, above 0")
                }
                token.lifetime = .seconds(seconds)
            }
            databaseToken = token
        }
        host = environment["BIND_HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        if let text = environment["PORT"] {
            guard let port = Int(text), (1...65535).contains(port) else {
                throw InvalidSetting(variable: "PORT", expected: "a TCP port number, 1 to 65535")
            }
            self.port = port
        } else {
            port = 8080
        }
    }
}

/// An environment variable whose value the service cannot use.
public struct InvalidSetting: Error, Sendable, Hashable, CustomStringConvertible {
    /// The variable's name.
    public var variable: String
    /// What it should hold.
    public var expected: String

    /// What is wrong, without the value (which could be a secret pasted into the wrong variable).
    public var description: String { "\(variable) must be \(expected)" }
}
