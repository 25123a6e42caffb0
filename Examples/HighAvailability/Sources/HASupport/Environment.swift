import Foundation

/// The formation's coordinates, as `scripts/ha-cluster.sh env` exports them.
public struct FormationEnvironment: Sendable {
    /// The formation's URI from `pg_autoctl show uri --formation default`: every node, read-write targeting.
    public var uri: String
    public var monitorPort: String
    public var script: String
    public var user: String
    public var password: String
    /// The kinds of failover this process can cause: a partition needs nft and root, which the script checked.
    public var failoverKinds: [Formation.FailoverKind]

    /// Reads `POSTGRES_HA_*`; nil (after saying what is missing) when the script did not set them.
    public static func fromProcess() -> FormationEnvironment? {
        let environment = ProcessInfo.processInfo.environment
        guard let uri = environment["POSTGRES_HA_URI"], let monitorPort = environment["POSTGRES_HA_MONITOR_PORT"],
              let script = environment["POSTGRES_HA_SCRIPT"]
        else {
            FileHandle.standardError.write(Data("run me through scripts/ha-cluster.sh run\n".utf8))
            return nil
        }
        var kinds = Formation.FailoverKind.allCases
        if environment["POSTGRES_HA_CAN_PARTITION"] != "1" {
            kinds.removeAll { $0 == .partition }
            FileHandle.standardError.write(Data("no partitions: black-holing a port needs nft and root\n".utf8))
        }
        return FormationEnvironment(
            uri: uri, monitorPort: monitorPort, script: script,
            user: environment["POSTGRES_APP_USER"] ?? "app",
            password: environment["POSTGRES_APP_PASSWORD"] ?? "app-secret",
            failoverKinds: kinds
        )
    }

    /// The formation's URI signing in as `user` (the app's role unless told otherwise).
    public func connectionString(user: String? = nil, password: String? = nil) -> String {
        let user = user ?? self.user
        let password = password ?? (user == self.user ? self.password : nil)
        let separator = uri.contains("?") ? "&" : "?"
        return uri + separator + "user=\(user)" + (password.map { "&password=\($0)" } ?? "")
    }
}
