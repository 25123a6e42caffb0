import Foundation

/// Drops every packet to and from one TCP port on loopback, without a reset: the peer seems to vanish.
///
/// Uses an nftables table of its own (`nft`, as root). Tests that need it are skipped where nft is missing or not
/// permitted.
struct BlackHole {
    let port: String
    /// A table of this process's own: test runs of other checkouts may cut off their servers at the same time.
    private static let table = "resilient_postgres_blackhole_\(getpid())"

    /// Whether nftables rules can be added here (checked once, by adding and deleting an empty table).
    static let isAvailable: Bool = {
        guard Servers.spawnAndWait(["nft", "add", "table", "inet", table]) == 0 else { return false }
        return Servers.spawnAndWait(["nft", "delete", "table", "inet", table]) == 0
    }()

    /// Starts dropping the port's traffic.
    func close() async throws {
        _ = Servers.spawnAndWait(["nft", "delete", "table", "inet", Self.table])
        try await Servers.run(["nft", "add", "table", "inet", Self.table])
        try await Servers.run([
            "nft", "add", "chain", "inet", Self.table, "output", "{ type filter hook output priority 0 ; }",
        ])
        try await Servers.run(["nft", "add", "rule", "inet", Self.table, "output", "tcp", "dport", port, "drop"])
        try await Servers.run(["nft", "add", "rule", "inet", Self.table, "output", "tcp", "sport", port, "drop"])
    }

    /// Lets traffic flow again.
    func open() async throws {
        try await Servers.run(["nft", "delete", "table", "inet", Self.table])
    }
}
