// swift-tools-version:6.0
import PackageDescription

// An export of a table to CSV that streams its rows in constant memory and, when a failover ends the stream part
// way, resumes after the last key written: every row once, none skipped.
let package = Package(
    name: "CSVExport",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "ResilientPostgres", path: "../.."),
    ],
    targets: [
        // The export: rows streamed by key, written as CSV lines, resumed by keyset.
        .target(
            name: "ItemsExport",
            dependencies: [.product(name: "ResilientPostgres", package: "ResilientPostgres")]
        ),
        // `swift run CSVExport [connection string]`: the items table to standard output.
        .executableTarget(
            name: "CSVExport",
            dependencies: ["ItemsExport", .product(name: "ResilientPostgres", package: "ResilientPostgres")]
        ),
        // On the Testing product's scripted database (no server), and against the server `make test` starts
        // (skipped without one).
        .testTarget(
            name: "ItemsExportTests",
            dependencies: [
                "ItemsExport",
                .product(name: "ResilientPostgres", package: "ResilientPostgres"),
                .product(name: "ResilientPostgresTesting", package: "ResilientPostgres"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
