import Foundation

/// A fenced code block of the documentation: a Markdown file's, or a doc comment's with `/// ` taken off.
struct CodeSample: CustomStringConvertible {
    /// The file it is in, relative to the repository's root.
    var file: String
    /// The line of its opening fence, from 1.
    var line: Int
    /// The language its fence names (`swift`, `text`, `sh`), or empty when it names none.
    var language: String
    /// Its lines, without the fences.
    var lines: [String]

    /// Where it is, and its first line.
    var description: String {
        "\(file):\(line): ```\(language) block starting `\(lines.first { !$0.isEmpty } ?? "")`"
    }

    /// The code blocks of a Markdown text, each fence indented as its block.
    static func inMarkdown(_ text: String, file: String) -> [CodeSample] {
        blocks(in: text.split(separator: "\n", omittingEmptySubsequences: false).map { (String($0), true) }, file: file)
    }

    /// The code blocks of the `///` comments of a Swift source.
    static func inDocComments(_ source: String, file: String) -> [CodeSample] {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            let trimmed = line.drop { $0 == " " }
            guard trimmed.hasPrefix("///") else { return ("", false) }
            let comment = trimmed.dropFirst(3)
            return (String(comment.first == " " ? comment.dropFirst() : comment), true)
        }
        return blocks(in: lines, file: file)
    }

    /// The blocks among `lines`, of which only those marked as documentation count (a doc comment's lines).
    private static func blocks(in lines: [(text: String, isDocumentation: Bool)], file: String) -> [CodeSample] {
        var samples: [CodeSample] = []
        var open: (sample: CodeSample, indent: Int)?
        for (index, line) in lines.enumerated() {
            let indent = line.text.prefix { $0 == " " }.count
            let trimmed = line.text.dropFirst(indent)
            if var current = open {
                if !line.isDocumentation || (trimmed == "```" && indent <= current.indent) {
                    samples.append(current.sample)
                    open = nil
                } else {
                    current.sample.lines.append(String(line.text.dropFirst(min(indent, current.indent))))
                    open = current
                }
            } else if line.isDocumentation, trimmed.hasPrefix("```") {
                let language = trimmed.dropFirst(3).trimmingCharacters(in: .whitespaces)
                open = (CodeSample(file: file, line: index + 1, language: language, lines: []), indent)
            }
        }
        // A block left open runs to the end of the text: it is still a sample.
        if let open { samples.append(open.sample) }
        return samples
    }

    /// Whether `source` has this block's lines in a row, each indented by the same amount more.
    func isVerbatim(in source: String) -> Bool {
        let sourceLines = source.split(separator: "\n", omittingEmptySubsequences: false)
        guard !lines.isEmpty, lines.count <= sourceLines.count else { return false }
        return (0...(sourceLines.count - lines.count)).contains { start in
            let window = sourceLines[start..<(start + lines.count)]
            let indent = window.first!.prefix { $0 == " " }.dropLast(lines[0].prefix { $0 == " " }.count)
            return zip(window, lines).allSatisfy { line, expected in
                expected.isEmpty ? line.isEmpty : line == indent + expected
            }
        }
    }
}
