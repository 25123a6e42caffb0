import Foundation
import TestSupport

/// Drops every packet to and from one TCP port on loopback, without a reset: the peer seems to vanish.
///
/// Uses an nftables table of its own (`nft`, as root). Tests that need it are skipped where nft is missing or not
/// permitted.
struct BlackHole {
    let port: String
    /// A table of this process's own: test runs of other checkouts may cut off their servers at the same time.
    private static let table = "resilient_postgres_blackhole_\(getpid())"
    /// A table of this port's own, so that suites cutting off different servers at once do not undo each other.
    private var table: String { "\(Self.table)_\(port)" }

    /// Whether nftables rules can be added here (checked once, by adding and deleting an empty table).
    static let isAvailable: Bool = {
        guard (try? ChildProcess.runOnThisThread(["nft", "add", "table", "inet", table])) != nil else { return false }
        return (try? ChildProcess.runOnThisThread(["nft", "delete", "table", "inet", table])) != nil
    }()

    /// Starts dropping the port's traffic.
    func close() async throws {
        _ = try? await ChildProcess.run(["nft", "delete", "table", "inet", table])
        try await ChildProcess.run(["nft", "add", "table", "inet", table])
        try await ChildProcess.run([
            "nft", "add", "chain", "inet", table, "output", "{ type filter hook output priority 0 ; }",
        ])
        try await ChildProcess.run(["nft", "add", "rule", "inet", table, "output", "tcp", "dport", port, "drop"])
        try await ChildProcess.run(["nft", "add", "rule", "inet", table, "output", "tcp", "sport", port, "drop"])
    }

    /// Lets traffic flow again.
    func open() async throws {
        try await ChildProcess.run(["nft", "delete", "table", "inet", table])
    }
}
