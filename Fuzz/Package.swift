// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for the library's parsers: connection strings and URLs, and row decoding.
// Built and run by `make fuzz` (scripts/fuzz.sh) with `-sanitize=fuzzer,address`: libFuzzer supplies `main`,
// so the targets are compiled as libraries (`-parse-as-library`) and export `LLVMFuzzerTestOneInput`.
let package = Package(
    name: "ResilientPostgresFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "ResilientPostgres", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "FuzzConnectionString",
            dependencies: [.product(name: "ResilientPostgres", package: "ResilientPostgres")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        .executableTarget(
            name: "FuzzDecoding",
            dependencies: [.product(name: "ResilientPostgres", package: "ResilientPostgres")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ],
    swiftLanguageModes: [.v6]
)
