// swift-tools-version:6.0
import PackageDescription

// Every code sample of the README, the DocC articles and the doc comments that is not part of another example,
// verbatim, so that `make test` compiles it (and, where a sample makes a claim, its tests check the claim).
let package = Package(
    name: "DocumentationSamples",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "ResilientPostgres", path: "../.."),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
    ],
    targets: [
        // The samples of the articles and of the doc comments of `ResilientPostgres`, as an app would write them.
        .target(
            name: "ResilientPostgresSamples",
            dependencies: [
                .product(name: "ResilientPostgres", package: "ResilientPostgres"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The postgres-nio side of "Migrating from postgres-nio", and both clients in one file.
        .target(
            name: "PostgresNIOSamples",
            dependencies: [
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ResilientPostgres", package: "ResilientPostgres"),
            ]
        ),
        // The samples of the Testing product's doc comments, and checks of what the other samples claim, on a
        // scripted database: no server.
        .testTarget(
            name: "DocumentationSamplesTests",
            dependencies: [
                "ResilientPostgresSamples",
                .product(name: "ResilientPostgres", package: "ResilientPostgres"),
                .product(name: "ResilientPostgresTesting", package: "ResilientPostgres"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
