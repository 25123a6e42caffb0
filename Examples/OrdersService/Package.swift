// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "OrdersService",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "ResilientPostgres", path: "../.."),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
    ],
    targets: [
        // The service itself: routes, the order repository, and how database failures become HTTP answers.
        .target(
            name: "OrdersAPI",
            dependencies: [
                .product(name: "ResilientPostgres", package: "ResilientPostgres"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The executable: reads the environment and runs the client and the server in one service group.
        .executableTarget(
            name: "OrdersService",
            dependencies: [
                "OrdersAPI",
                .product(name: "ResilientPostgres", package: "ResilientPostgres"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "OrdersAPITests",
            dependencies: [
                "OrdersAPI",
                .product(name: "ResilientPostgres", package: "ResilientPostgres"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
