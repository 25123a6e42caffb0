// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "ConsumerTesting",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "ResilientPostgres", path: "../.."),
    ],
    targets: [
        // The app's code: a repository over a PostgresClient.
        .target(
            name: "Payments",
            dependencies: [.product(name: "ResilientPostgres", package: "ResilientPostgres")]
        ),
        // Its tests, on the Testing product's scripted database and manual clock: no server, no real waiting.
        .testTarget(
            name: "PaymentsTests",
            dependencies: [
                "Payments",
                .product(name: "ResilientPostgres", package: "ResilientPostgres"),
                .product(name: "ResilientPostgresTesting", package: "ResilientPostgres"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
