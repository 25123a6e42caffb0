// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "FailoverDemo",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "ResilientPostgres", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "FailoverDemo",
            dependencies: [.product(name: "ResilientPostgres", package: "ResilientPostgres")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
