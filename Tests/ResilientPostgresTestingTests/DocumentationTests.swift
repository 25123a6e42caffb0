import Foundation
import Testing
import TestSupport

@Suite("Documentation", .capturingLogs)
struct DocumentationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Every Swift block of the testing article is code from `Examples/ConsumerTesting`, verbatim but for its
    /// indentation, and `make test` builds and runs that package: so the article's examples compile and pass.
    @Test func articleExamplesAreTheConsumerPackagesCode() throws {
        let article = try String(
            contentsOf: Self.root.appending(
                path: "Sources/ResilientPostgresTesting/ResilientPostgresTesting.docc/TestingWithResilientPostgres.md"
            ),
            encoding: .utf8
        )
        let consumer = Self.root.appending(path: "Examples/ConsumerTesting")
        let sources = try [
            "Package.swift",
            "Sources/Payments/PaymentsRepository.swift",
            "Tests/PaymentsTests/PaymentsRepositoryTests.swift",
        ].map { try String(contentsOf: consumer.appending(path: $0), encoding: .utf8) }

        let blocks = Self.swiftBlocks(in: article)
        #expect(blocks.count >= 6)
        for block in blocks {
            let found = sources.contains { Self.contains($0, block) }
            #expect(found, "not in Examples/ConsumerTesting:\n\(block.joined(separator: "\n"))")
        }
    }

    /// The lines of each ```swift block.
    static func swiftBlocks(in markdown: String) -> [[String]] {
        var blocks: [[String]] = []
        var current: [String]?
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if current == nil, line == "```swift" {
                current = []
            } else if current != nil, line == "```" {
                blocks.append(current!)
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    /// Whether `source` has `block`'s lines in a row, each indented by the same amount more.
    static func contains(_ source: String, _ block: [String]) -> Bool {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard block.count <= lines.count else { return false }
        for start in 0...(lines.count - block.count) {
            let window = lines[start..<(start + block.count)]
            guard let indent = window.first?.prefix(while: { $0 == " " }) else { continue }
            if zip(window, block).allSatisfy({ line, expected in
                expected.isEmpty ? line.isEmpty : line == indent + expected
            }) {
                return true
            }
        }
        return false
    }
}
