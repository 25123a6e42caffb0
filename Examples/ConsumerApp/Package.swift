// swift-tools-version:6.0
import PackageDescription

// An app's own code on ResilientPostgres, with `import ResilientPostgres` and nothing else of the library: a money
// type stored in a column, and a main-actor store whose closures change its own state.
let package = Package(
    name: "ConsumerApp",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "ResilientPostgres", path: "../.."),
    ],
    targets: [
        .target(
            name: "Accounts",
            dependencies: [.product(name: "ResilientPostgres", package: "ResilientPostgres")]
        ),
        // Against the real server `make test` starts; skipped without one.
        .testTarget(
            name: "AccountsTests",
            dependencies: [
                "Accounts",
                .product(name: "ResilientPostgres", package: "ResilientPostgres"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
