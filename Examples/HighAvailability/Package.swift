// swift-tools-version:6.0
import PackageDescription

/// Checks against a real HA engine (pg_auto_failover, run by scripts/ha-cluster.sh): writers through failovers
/// (`HADemo`), a bank whose balance must never change (`Bank`), and a fleet of clients against one small server
/// (`Fleet`).
let package = Package(
    name: "HighAvailability",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "ResilientPostgres", path: "../.."),
    ],
    targets: [
        .target(
            name: "HASupport",
            dependencies: [.product(name: "ResilientPostgres", package: "ResilientPostgres")]
        ),
        .executableTarget(
            name: "HADemo",
            dependencies: ["HASupport", .product(name: "ResilientPostgres", package: "ResilientPostgres")]
        ),
        .executableTarget(
            name: "Bank",
            dependencies: ["HASupport", .product(name: "ResilientPostgres", package: "ResilientPostgres")]
        ),
        .executableTarget(
            name: "Fleet",
            dependencies: ["HASupport", .product(name: "ResilientPostgres", package: "ResilientPostgres")]
        ),
        .testTarget(name: "HASupportTests", dependencies: ["HASupport"]),
    ],
    swiftLanguageModes: [.v6]
)
