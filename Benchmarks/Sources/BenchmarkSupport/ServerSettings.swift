/// Where the benchmark server is, from the `POSTGRES_*` variables `scripts/with-test-servers.sh` exports.
public struct ServerSettings: Sendable {
    /// The server's address (127.0.0.1).
    public var host: String
    /// The server's TCP port.
    public var port: Int
    /// The role to connect as (the cluster's superuser, trusted on loopback).
    public var user: String
    /// The database the workloads use.
    public var database: String

    /// Reads `POSTGRES_HOST`, `POSTGRES_PORT`, `POSTGRES_USER` and `POSTGRES_DB`.
    public static func fromEnvironment() throws -> ServerSettings {
        func variable(_ name: String) throws -> String {
            guard let value = getenv(name).map({ String(cString: $0) }), !value.isEmpty else {
                throw SettingsError(
                    "\(name) is not set: run through `make bench`, or scripts/with-test-servers.sh, which start a server"
                )
            }
            return value
        }
        guard let port = Int(try variable("POSTGRES_PORT")) else { throw SettingsError("POSTGRES_PORT is not a number") }
        return ServerSettings(
            host: try variable("POSTGRES_HOST"), port: port,
            user: try variable("POSTGRES_USER"), database: try variable("POSTGRES_DB")
        )
    }

    /// The libpq connection string every libpq-based system uses: TCP on loopback, no TLS.
    public var connectionString: String {
        "host=\(host) port=\(port) user=\(user) dbname=\(database) sslmode=disable application_name=bench"
    }
}

/// The benchmark's configuration is incomplete.
public struct SettingsError: Error, CustomStringConvertible {
    /// What is missing or wrong.
    public let description: String
    /// An error that says `description`.
    public init(_ description: String) { self.description = description }
}

#if canImport(Glibc)
import Glibc
#endif
