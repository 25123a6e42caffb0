// swift-tools-version:6.0
import PackageDescription

// The same workloads run by raw libpq (C), postgres-nio and ResilientPostgres, against one throwaway server.
// A package of its own so that the root package stays light: `make bench` builds and runs it in release mode.
let package = Package(
    name: "ResilientPostgresBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "ResilientPostgres", path: "../"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
    ],
    targets: [
        // libpq, as the system provides it, for the C baseline (the root's CLibPQ is not a product).
        .systemLibrary(
            name: "CBenchmarkLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        // The baseline: every workload written against libpq in C, as a careful C program would.
        .target(name: "LibPQWorkloads", dependencies: ["CBenchmarkLibPQ"]),
        // Brackets the timed part of a workload for callgrind (no-ops outside valgrind).
        .target(name: "CallgrindMarkers"),
        // What the three systems share: workloads, results, memory readings.
        .target(
            name: "BenchmarkSupport",
            dependencies: ["CallgrindMarkers", .product(name: "Logging", package: "swift-log")]
        ),
        // The workloads through postgres-nio.
        .target(
            name: "NIOWorkloads",
            dependencies: ["BenchmarkSupport", .product(name: "PostgresNIO", package: "postgres-nio")]
        ),
        // The workloads through ResilientPostgres, and its per-operation policy bookkeeping alone.
        .target(
            name: "ResilientWorkloads",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "ResilientPostgres", package: "ResilientPostgres"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // Runs every workload for the three systems, interleaved, one child process per measurement.
        .executableTarget(
            name: "ResilientPostgresBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                "LibPQWorkloads",
                "NIOWorkloads",
                "ResilientWorkloads",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
