import Foundation
import Testing

/// Every public declaration of the coding layer carries its own doc comment, directly above it (attributes aside):
/// a helper moved in between would leave the public symbol undocumented and lend it a comment not its own, which
/// for `appendInterpolation(unsafeRaw:)` would lose the warning that its text goes into the SQL unescaped.
@Suite("Public doc comments")
struct PublicDocCommentsTests {
    @Test func everyPublicCodingDeclarationHasItsOwnDocComment() throws {
        let sources = try CodeSamplesTests.files(under: "Sources/ResilientPostgres/Coding") { $0.hasSuffix(".swift") }
        #expect(!sources.isEmpty)
        for (path, text) in sources {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            for (index, line) in lines.enumerated() where Self.declaresPublicSymbol(line) {
                let above = lines[..<index].last { !$0.hasPrefix("@") } ?? ""
                #expect(above.hasPrefix("///"), "\(path):\(index + 1): `\(line)` has no doc comment of its own")
            }
        }
    }

    /// Whether a line declares a public symbol (an extension is not one: its members carry the docs).
    static func declaresPublicSymbol(_ line: String) -> Bool {
        line.hasPrefix("public ") && !line.hasPrefix("public extension ") && !line.hasPrefix("public import ")
    }
}
