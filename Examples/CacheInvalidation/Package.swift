// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "CacheInvalidation",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "ResilientPostgres", path: "../.."),
    ],
    targets: [
        // A cache of a table kept in step by a listener: it drops an entry on a notification, reloads on a gap.
        .target(
            name: "PriceCache",
            dependencies: [.product(name: "ResilientPostgres", package: "ResilientPostgres")]
        ),
        // Its tests, on the Testing product's scripted database: notifications, a lost session, no server.
        .testTarget(
            name: "PriceCacheTests",
            dependencies: [
                "PriceCache",
                .product(name: "ResilientPostgres", package: "ResilientPostgres"),
                .product(name: "ResilientPostgresTesting", package: "ResilientPostgres"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
