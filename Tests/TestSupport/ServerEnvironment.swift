import Foundation
import PostgresTransport
import Testing

/// The throwaway servers `scripts/with-test-servers.sh` started for this run (what `make test` uses), as described
/// by the `POSTGRES_*` variables it exports. Every test that needs a server reads them here, and nowhere else.
///
/// The contract, for a server started under NAME (uppercased, `-` becoming `_`: `bouncer-primary` is
/// `BOUNCER_PRIMARY`):
/// - `POSTGRES_<NAME>_PORT`: its port on 127.0.0.1. Its presence is what says that this run started it.
/// - `POSTGRES_<NAME>_KIND`: `cluster`, `tls`, `standby` or `bouncer`.
/// - `POSTGRES_<NAME>_LOG`: its log file (PostgreSQL's or pgbouncer's).
/// - `POSTGRES_<NAME>_DATADIR` (PostgreSQL only), `POSTGRES_<NAME>_SSLROOTCERT` (`tls`: the CA that signed its
///   certificate for `localhost`), `POSTGRES_<NAME>_PRIMARY` (a standby: the server it follows),
///   `POSTGRES_<NAME>_UPSTREAM` (a pgbouncer: the cluster behind it).
///
/// And for the run as a whole:
/// - `POSTGRES_HOST`, `POSTGRES_PORT`, `POSTGRES_USER`, `POSTGRES_DB`: the `main` server, as the superuser, on
///   database `postgres`; these alone may also point the tests at a server of one's own.
/// - `POSTGRES_APP_USER`, `POSTGRES_APP_PASSWORD`: a role without superuser rights that logs in with a password,
///   on every server.
/// - `POSTGRES_CLUSTER_SCRIPT`: `scripts/pg-cluster.sh`, with which a test stops, starts, restarts or promotes a
///   server (``cluster(_:)``); `POSTGRES_BINDIR`: the PostgreSQL programs it uses.
///
/// Run bare (`swift test`, no wrapper), none of these is set: the tests that need a server are skipped, and
/// ``skipReason(needing:clusterScript:detail:)`` says which servers they wanted.
public struct ServerEnvironment: Sendable {
    /// This process's environment.
    public static let current = ServerEnvironment(ProcessInfo.processInfo.environment)

    private let variables: [String: String]

    /// An environment from explicit variables (this process's is ``current``).
    public init(_ variables: [String: String]) {
        self.variables = variables
    }

    /// The host every server listens on.
    public var host: String { variables["POSTGRES_HOST"] ?? "127.0.0.1" }

    /// The superuser every server has, and the database it connects to.
    public var superuser: String { variables["POSTGRES_USER"] ?? "postgres" }
    public var database: String { variables["POSTGRES_DB"] ?? "postgres" }

    /// The role without superuser rights, and its password.
    public var appUser: String { variables["POSTGRES_APP_USER"] ?? "app" }
    public var appPassword: String { variables["POSTGRES_APP_PASSWORD"] ?? "app-secret" }

    /// The path of `scripts/pg-cluster.sh`, when the tests run under `scripts/with-test-servers.sh`.
    public var clusterScript: String? { variables["POSTGRES_CLUSTER_SCRIPT"] }

    /// The `main` server (`POSTGRES_MAIN_PORT` or `POSTGRES_PORT`), or libpq's default port when none was started:
    /// check ``has(_:clusterScript:)`` first.
    public var main: Server {
        server("main") ?? server(at: "5432")
    }

    /// The server this run started under `name` (`main`, `crash`, `tls`, `bouncer-primary`, ...), or nil.
    public func server(_ name: String) -> Server? {
        let prefix = "POSTGRES_\(Self.variableName(name))_"
        guard let port = variables[prefix + "PORT"] ?? (name == "main" ? variables["POSTGRES_PORT"] : nil) else {
            return nil
        }
        var server = server(at: port)
        server.name = name
        server.log = variables[prefix + "LOG"]
        server.rootCertificate = variables[prefix + "SSLROOTCERT"]
        return server
    }

    /// A server on ``host`` at `port`, with the run's roles: one reached by its port alone, or a list of ports.
    public func server(at port: String) -> Server {
        Server(
            name: port, host: host, port: port, superuser: superuser, database: database,
            appUser: appUser, appPassword: appPassword
        )
    }

    /// Whether this run started every server in `names`, and (when `clusterScript`) gave the script to control them.
    public func has(_ names: String..., clusterScript needsScript: Bool = false) -> Bool {
        names.allSatisfy { server($0) != nil } && (!needsScript || clusterScript != nil)
    }

    /// Why a test that needs `names` (and the cluster script, when `clusterScript`) is skipped, naming the variables
    /// it looked for; `detail` says what is special about those servers.
    public func skipReason(needing names: String..., clusterScript needsScript: Bool = false, detail: String? = nil) -> Comment {
        let quoted = names.map { "`\($0)`" }
        let servers = quoted.count == 1 ? "the \(quoted[0]) server" : "the servers \(quoted.joined(separator: ", "))"
        let variables = names.map { "POSTGRES_\(Self.variableName($0))_PORT" }
            + (needsScript ? ["POSTGRES_CLUSTER_SCRIPT"] : [])
        let special = detail.map { ", \($0)" } ?? ""
        return "needs \(servers) that `make test` starts\(special) (\(variables.joined(separator: ", ")) unset)"
    }

    /// Runs the cluster script with `arguments`, e.g. `["stop", "crash", "immediate"]`, and waits for it.
    ///
    /// - Throws: ``ChildProcess/Failure`` when the script is not given, fails, or is killed.
    public func cluster(_ arguments: [String]) async throws {
        guard let clusterScript else {
            throw ChildProcess.Failure(command: ["pg-cluster.sh"] + arguments, reason: .notRun(errno: ENOENT), output: "")
        }
        try await ChildProcess.run([clusterScript] + arguments)
    }

    private static func variableName(_ name: String) -> String {
        name.uppercased().replacingOccurrences(of: "-", with: "_")
    }
}
