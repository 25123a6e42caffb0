import Foundation
import Testing

/// Every Swift sample of the documentation is code that `make test` compiles: each ```swift block of the README,
/// of the DocC articles and of the doc comments in `Sources/` is found verbatim (but for a uniform indentation) in
/// a package under `Examples/`, and `make test` builds every one of them and runs their tests.
@Suite("Code samples")
struct CodeSamplesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Documents that say which example their samples are taken from.
    static let homes = [
        "Sources/ResilientPostgresTesting/ResilientPostgresTesting.docc/TestingWithResilientPostgres.md":
            "Examples/ConsumerTesting/",
    ]

    @Test func everySwiftSampleIsInAnExamplePackage() throws {
        let samples = try Self.samples()
        let examples = try Self.files(under: "Examples") { path in
            let parts = path.split(separator: "/")
            return path.hasSuffix(".swift") && parts.count >= 3
                && (parts[2] == "Package.swift" || parts[2] == "Sources" || parts[2] == "Tests")
        }
        #expect(samples.count { $0.language == "swift" } >= 30)
        #expect(samples.contains { $0.file == "README.md" })
        #expect(samples.contains { $0.file.hasSuffix(".swift") })

        for sample in samples {
            #expect(!sample.language.isEmpty, "\(sample) names no language: fence it as ```swift, ```text or ```sh")
            guard sample.language == "swift" else { continue }
            let home = Self.homes[sample.file] ?? "Examples/"
            let found = examples.contains { path, source in path.hasPrefix(home) && sample.isVerbatim(in: source) }
            #expect(found, """
                \(sample) is not in the sources of a package under \(home), so nothing compiles it. Put it there \
                verbatim (indented uniformly), in the example it comes from or in Examples/DocumentationSamples, \
                inside a function whose parameters provide what it uses; fence it as ```text if it is not Swift.
                """)
        }
    }

    /// The README says its Quickstart is `Examples/Quickstart`, verbatim: the whole program, not a part of it.
    @Test func readmeShowsTheWholeQuickstart() throws {
        let readme = try String(contentsOf: Self.root.appending(path: "README.md"), encoding: .utf8)
        let quickstart = try String(
            contentsOf: Self.root.appending(path: "Examples/Quickstart/Sources/Quickstart/Quickstart.swift"),
            encoding: .utf8
        )
        #expect(readme.contains("```swift\n" + quickstart + "```\n"))
    }

    /// The code blocks of the README, of both DocC catalogs' articles, and of the doc comments in `Sources/`.
    static func samples() throws -> [CodeSample] {
        let articles = try files(under: "Sources") { path in
            path.split(separator: "/").count == 4 && path.contains(".docc/") && path.hasSuffix(".md")
        }
        let sources = try files(under: "Sources") { $0.hasSuffix(".swift") }
        let readme = try String(contentsOf: root.appending(path: "README.md"), encoding: .utf8)
        return CodeSample.inMarkdown(readme, file: "README.md")
            + articles.flatMap { CodeSample.inMarkdown($0.text, file: $0.path) }
            + sources.flatMap { CodeSample.inDocComments($0.text, file: $0.path) }
    }

    /// The files under a folder of the repository whose paths (relative to the root) `include` accepts, with their
    /// text; build folders are skipped.
    static func files(under folder: String, include: (String) -> Bool) throws -> [(path: String, text: String)] {
        let base = root.appending(path: folder)
        guard let enumerator = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else {
            return []
        }
        var files: [(path: String, text: String)] = []
        for case let url as URL in enumerator {
            if url.lastPathComponent.hasPrefix(".build") || url.lastPathComponent.hasPrefix(".swiftpm") {
                enumerator.skipDescendants()
                continue
            }
            let path = folder + "/" + url.path.dropFirst(base.path.count + 1)
            guard include(path), let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
            files.append((path, text))
        }
        return files.sorted { $0.path < $1.path }
    }
}
