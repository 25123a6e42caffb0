// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "ResilientPostgres",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ResilientPostgres", targets: ["ResilientPostgres"]),
        .library(name: "ResilientPostgresTesting", targets: ["ResilientPostgresTesting"]),
    ],
    dependencies: [
        // 1.12: `LogEvent` with its error, and the `InMemoryLogging` the tests capture logs with.
        .package(url: "https://github.com/apple/swift-log.git", from: "1.12.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        // `swift package generate-documentation` (DocC); not linked into anything.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin.git", from: "1.4.0"),
    ],
    targets: [
        // libpq, as the system provides it. Imported by PostgresTransport only.
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        // epoll and eventfd, which the Glibc module does not expose (Linux only; empty elsewhere).
        .systemLibrary(name: "CEpoll"),
        // Transport: one libpq connection, non-blocking; reports failures as facts, in Policy's vocabulary
        // (SQLSTATE, severity, phase).
        .target(name: "PostgresTransport", dependencies: ["CLibPQ", "CEpoll", "PostgresPolicy"]),
        // Policy: pure decisions (classification, backoff, budget, throttle). Imports nothing of ours.
        .target(name: "PostgresPolicy"),
        // Public API: what apps import.
        .target(
            name: "ResilientPostgres",
            dependencies: [
                "PostgresTransport",
                "PostgresPolicy",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Test doubles for consumers, built on the public module's seams.
        .target(
            name: "ResilientPostgresTesting",
            dependencies: [
                "ResilientPostgres",
                "PostgresTransport",
                "PostgresPolicy",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The simulator's engine: a model server behind the connection seam, seeded fault schedules, a driver of
        // virtual time, and the invariants checked after each schedule (see its README). Not a product.
        .target(
            name: "ResilientPostgresSimulation",
            dependencies: [
                "ResilientPostgres",
                "ResilientPostgresTesting",
                "PostgresTransport",
                "PostgresPolicy",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md"]
        ),
        // `make simulate`: runs the engine's schedules in bulk or replays one. Not a product.
        .executableTarget(name: "ResilientPostgresSimulator", dependencies: ["ResilientPostgresSimulation"]),

        // What every test target shares: the servers `make test` starts, running commands, and each test's log kept
        // in memory and printed only when it fails. Not a product.
        .target(
            name: "TestSupport",
            dependencies: [
                "PostgresTransport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "TestSupportTests", dependencies: ["TestSupport", "PostgresTransport"]),
        .testTarget(
            name: "PostgresTransportTests",
            dependencies: [
                "PostgresTransport", "PostgresPolicy", "TestSupport", .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "PostgresPolicyTests", dependencies: ["PostgresPolicy"]),
        .testTarget(
            name: "ResilientPostgresTests",
            dependencies: [
                "ResilientPostgres", "ResilientPostgresTesting", "PostgresTransport", "PostgresPolicy", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ResilientPostgresTestingTests",
            dependencies: [
                "ResilientPostgres",
                "ResilientPostgresTesting",
                "TestSupport",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        .testTarget(name: "ResilientPostgresSimulationTests", dependencies: ["ResilientPostgresSimulation"]),
        // Real servers under real faults: restarts, failover, pgbouncer, TLS, a vanished network
        // (started by scripts/with-test-servers.sh).
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "ResilientPostgres",
                "ResilientPostgresTesting",
                "PostgresTransport",
                "PostgresPolicy",
                "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
