import Foundation
import Testing
import TestSupport

@Suite("README", .capturingLogs)
struct ReadmeTests {
    /// The README shows the Quickstart example verbatim, and the example is built by `make test`: so the README's
    /// code compiles.
    @Test func quickstartInTheReadmeIsTheExampleVerbatim() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let example = try String(
            contentsOf: root.appendingPathComponent("Examples/Quickstart/Sources/Quickstart/Quickstart.swift"),
            encoding: .utf8
        )
        #expect(readme.contains("```swift\n" + example + "```\n"))
    }
}
