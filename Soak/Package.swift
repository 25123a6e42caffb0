// swift-tools-version:6.0
import PackageDescription

// A soak test: mixed operations through PostgresClient against a throwaway cluster that is restarted periodically,
// reporting memory, descriptors and failures. Its own package, so that the root stays light; run by `make soak`.
let package = Package(
    name: "Soak",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "ResilientPostgres", path: ".."),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
    ],
    targets: [
        .executableTarget(
            name: "Soak",
            dependencies: [
                .product(name: "ResilientPostgres", package: "ResilientPostgres"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
