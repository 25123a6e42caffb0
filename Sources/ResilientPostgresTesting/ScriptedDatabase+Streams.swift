extension ScriptedDatabase {
    /// Makes the next `times` streamed statements that `matcher` matches meet `fault` after `count` rows: a row
    /// stream (`client.rows`) hands over `count` rows, then fails; a `COPY ... TO STDOUT` hands over `count` chunks;
    /// a `COPY ... FROM STDIN` receives `count` chunks, and fails at the next one or at the end of its data. Rows and
    /// data come from the statement's answer, as without a fault.
    ///
    /// With `count` 0 the stream fails before its first row reaches the client, which may then retry it. With more,
    /// the client reports the failure with the rows delivered, which is what resume code is tested against:
    /// ```swift
    /// database.answer("SELECT id FROM items") { statement in
    ///     let last = (try? statement.parameter(0, as: Int.self)) ?? 0
    ///     return .rows(["id"], (last + 1...1_000).map { [$0] })
    /// }
    /// database.interruptStream("SELECT id FROM items", after: 300, with: .backendTerminated)
    /// ```
    public func interruptStream(
        _ matcher: StatementMatcher,
        after count: Int,
        with fault: StatementFault = .backendTerminated,
        times: Int = 1
    ) {
        streams.interrupt(matcher, after: count, with: fault, times: times)
    }

    /// Answers every `COPY ... TO STDOUT` that `matcher` matches with `chunks` as its data, handed over one chunk at
    /// a time. A later rule that matches the same statement wins.
    public func answerCopy(_ matcher: StatementMatcher, with chunks: [[UInt8]]) {
        streams.answerCopy(matcher, with: chunks)
    }

    /// Answers every `COPY ... TO STDOUT` that `matcher` matches with `text` (in the COPY's text or CSV format) as
    /// its data, one line to a chunk.
    public func answerCopy(_ matcher: StatementMatcher, withText text: String) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0)
        streams.answerCopy(matcher, with: lines.map { Array($0.utf8) + [UInt8(ascii: "\n")] })
    }

    /// Every `COPY ... FROM STDIN` so far, in order, with the data it received. A statement of one is accepted
    /// unless a rule of ``answer(_:with:)`` that matches it says otherwise: a fault is met at its start, and a
    /// ``ScriptedAnswer/command(_:)`` is its answer instead of `COPY n` (n the rows received, see
    /// ``RecordedCopy/rowCount``).
    public var copies: [RecordedCopy] { streams.copies }
}
