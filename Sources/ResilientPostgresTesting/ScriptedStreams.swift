import Synchronization

/// What a ``ScriptedDatabase`` keeps for streamed statements: the interruptions planned for them, the data scripted
/// for COPY TO STDOUT, and the COPY data received.
final class ScriptedStreams: Sendable {
    struct Interruption {
        let matcher: StatementMatcher
        /// Rows (or chunks) handed over before the fault.
        let after: Int
        let fault: StatementFault
        var remaining: Int
    }

    struct CopyOutRule {
        let matcher: StatementMatcher
        let chunks: [[UInt8]]
    }

    private struct State {
        var interruptions: [Interruption] = []
        var copyOutRules: [CopyOutRule] = []
        var copies: [RecordedCopy] = []
    }

    private let state = Mutex(State())

    func interrupt(_ matcher: StatementMatcher, after count: Int, with fault: StatementFault, times: Int) {
        precondition(count >= 0 && times > 0, "an interruption comes after 0 or more rows, at least once")
        state.withLock {
            $0.interruptions.append(Interruption(matcher: matcher, after: count, fault: fault, remaining: times))
        }
    }

    /// The interruption `statement` meets, used up by it; nil when none is planned.
    func takeInterruption(for statement: RecordedStatement) -> (after: Int, fault: StatementFault)? {
        state.withLock { state in
            guard let index = state.interruptions.firstIndex(where: { $0.matcher.matches(statement) }) else {
                return nil
            }
            let interruption = state.interruptions[index]
            state.interruptions[index].remaining -= 1
            if state.interruptions[index].remaining == 0 { state.interruptions.remove(at: index) }
            return (interruption.after, interruption.fault)
        }
    }

    func answerCopy(_ matcher: StatementMatcher, with chunks: [[UInt8]]) {
        state.withLock { $0.copyOutRules.append(CopyOutRule(matcher: matcher, chunks: chunks)) }
    }

    /// The data scripted for a COPY TO STDOUT, by the latest rule that matches; nil when none does.
    func copyData(for statement: RecordedStatement) -> [[UInt8]]? {
        state.withLock { $0.copyOutRules.last { $0.matcher.matches(statement) }?.chunks }
    }

    /// Records the start of a COPY FROM STDIN and returns its index among the copies.
    func beginCopy(_ statement: RecordedStatement) -> Int {
        state.withLock { state in
            state.copies.append(RecordedCopy(statement: statement))
            return state.copies.count - 1
        }
    }

    func received(_ chunk: [UInt8], forCopy index: Int) {
        state.withLock { $0.copies[index].data.append(contentsOf: chunk) }
    }

    func completed(copy index: Int) {
        state.withLock { $0.copies[index].isComplete = true }
    }

    var copies: [RecordedCopy] { state.withLock { $0.copies } }
}
