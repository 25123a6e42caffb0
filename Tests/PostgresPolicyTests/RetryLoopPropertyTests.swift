import PostgresPolicy
import Testing

/// Random operations against the retry loop: random policies and safeties, random faults from the catalogue in
/// random phases, pool timeouts, cancellations, shutdowns and verification answers, at random times. Whatever
/// happens, the loop keeps its promises.
@Suite("Retry loop, random operations")
struct RetryLoopPropertyTests {
    typealias Loop = RetryLoop

    /// Writes that must not run twice come up more often: they are what verifications are for.
    static let safeties: [OperationSafety] = [
        .autocommitWrite, .autocommitWrite, .transactionBlock, .transactionBlock, .readOnly, .idempotent,
        OperationSafety(isTransactionBlock: true, isReadOnly: true),
        OperationSafety(isTransactionBlock: true, isIdempotent: true),
    ]
    static let faults = Fault.catalogue + Fault.pgbouncer
    /// The faults a retry or a verification may follow, drawn half the time so that operations run long.
    static let transientFaults = faults.filter { $0.errorClass.isTransient || $0.errorClass == .outcomeUnknown }

    /// What one random operation did, for the message of a broken promise.
    struct Trace: CustomStringConvertible {
        var seed: UInt64
        var lines: [String] = []
        var description: String { "seed \(seed):\n" + lines.joined(separator: "\n") }
    }

    /// Never repeats a write in doubt, never waits past the deadline, never exceeds the attempt limit, and reports
    /// every effect no verification settled.
    @Test func loopKeepsItsPromisesOverThousandsOfRandomOperations() {
        for seed in UInt64(0)..<5_000 {
            Self.run(seed: seed)
        }
    }

    static func run(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let policy = RetryPolicy(
            backoff: ([.default, .constant(.seconds(2)), .decorrelatedJitter()] as [Backoff])
                .randomElement(using: &random)!,
            budget: ([.seconds(1), .seconds(10), .seconds(60)] as [Duration]).randomElement(using: &random)!,
            maxAttempts: ([nil, 1, 2, 3, 5] as [Int?]).randomElement(using: &random)!,
            reconnectsAtOnceAfterFirstDrop: Bool.random(using: &random)
        )
        let safety = safeties.randomElement(using: &random)!
        let canVerify = Int.random(in: 0..<4, using: &random) != 0
        let throttle = Bool.random(using: &random) ? RetryThrottle(maxTokens: 20) : nil
        let lendsSession = Bool.random(using: &random)
        var now = OffsetInstant.seconds(Int64.random(in: 0...1000, using: &random))
        var loop = Loop(policy: policy, safety: safety, startingAt: now, throttle: throttle, canVerify: canVerify)
        let end = loop.deadline.end
        var trace = Trace(seed: seed, lines: ["\(policy), \(safety), verify \(canVerify)"])

        // Whether an attempt may have taken effect since the operation started or a verification last found it
        // not applied.
        var inDoubt = false
        var attemptsMade = 0
        var pending: Loop.Outcome?
        var verifiable = false

        for _ in 0..<100 {
            attemptsMade += 1
            let outcome = pending ?? randomOutcome(lendsSession: lendsSession, using: &random)
            pending = nil
            now = now.advanced(by: .milliseconds(Int64.random(in: 0...3_000, using: &random)))
            var action = loop.next(after: outcome, at: now, jitter: SplitMix64(seed: ~seed))
            trace.lines.append("attempt \(attemptsMade) at \(now): \(outcome) -> \(action)")
            switch outcome {
            case .failed(let facts), .connectFailed(let facts):
                if facts.leavesOutcomeUnknown(for: safety) { inDoubt = true }
                verifiable = !facts.earlierWorkMayHaveTakenEffect
            case .interrupted(_, let mayHaveBeenApplied):
                if mayHaveBeenApplied { inDoubt = true }
                verifiable = false
            case .succeeded, .poolTimedOut, .cancelled, .shutDown:
                verifiable = false
            }

            if case .verify = action {
                #expect(canVerify && verifiable && !safety.mayRepeat, "\(trace)")
                now = now.advanced(by: .milliseconds(Int64.random(in: 0...3_000, using: &random)))
                switch Int.random(in: 0..<3, using: &random) {
                case 0:
                    action = loop.verified(applied: true, at: now)
                    #expect(action == .return, "\(trace)")
                case 1:
                    action = loop.verified(applied: false, at: now)
                    inDoubt = false
                default:
                    action = loop.verificationFailed(at: now)
                }
                trace.lines.append("verified at \(now) -> \(action)")
            }

            switch action {
            case .return:
                return
            case .verify:
                Issue.record("a verification's answer led to another verification\n\(trace)")
                return
            case .runAgain:
                #expect(now < end, "\(trace)")
                #expect(policy.maxAttempts.map { attemptsMade < $0 } ?? true, "\(trace)")
                #expect(!inDoubt, "\(trace)")
            case .retry(let retry):
                #expect(retry.attempt == attemptsMade, "\(trace)")
                #expect(retry.delay >= .zero, "\(trace)")
                #expect(now.advanced(by: retry.delay) < end, "\(trace)")
                #expect(policy.maxAttempts.map { attemptsMade < $0 } ?? true, "\(trace)")
                #expect(safety.mayRepeat || !inDoubt, "\(trace)")
                #expect(!retry.retiresEpoch || (retry.reconnects && retry.errorClass == .readOnlyHost), "\(trace)")
                if retry.waitsForProber, Bool.random(using: &random) {
                    // The pool is in an outage: the prober's reconnect ends the wait at any time.
                    now = now.advanced(by: Duration.random(upTo: retry.delay, using: &random))
                } else if Int.random(in: 0..<20, using: &random) == 0 {
                    // Cancelled in the backoff.
                    now = now.advanced(by: Duration.random(upTo: retry.delay, using: &random))
                    pending = .cancelled
                } else {
                    now = now.advanced(by: retry.delay)
                }
            case .giveUp(let giveUp):
                #expect(giveUp.attempt == attemptsMade, "\(trace)")
                #expect(giveUp.mayHaveBeenApplied == inDoubt, "\(trace)")
                #expect(giveUp.reason != .outcomeUnknown || giveUp.errorClass == .outcomeUnknown, "\(trace)")
                #expect(giveUp.elapsed == loop.deadline.elapsed(at: now), "\(trace)")
                #expect(attemptsMade <= policy.maxAttempts ?? .max, "\(trace)")
                #expect(loop.history.map(\.number) == (0..<loop.history.count).map { $0 + 1 },
                        "\(trace)")
                return
            }
        }
        Issue.record("the operation never ended\n\(trace)")
    }

    /// What an attempt did: mostly a failure from the catalogue, in a random phase.
    static func randomOutcome(lendsSession: Bool, using random: inout SplitMix64) -> Loop.Outcome {
        let fault = (Bool.random(using: &random) ? transientFaults : faults).randomElement(using: &random)!
        var facts = fault.facts(in: Situation.allCases.randomElement(using: &random)!)
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<10:
            return .succeeded
        case 10..<14:
            return .poolTimedOut(lastConnectFailure: Bool.random(using: &random) ? facts : nil)
        case 14..<16:
            return .cancelled
        case 16:
            return .shutDown
        default:
            if facts.phase == .connecting { return .connectFailed(facts) }
            if Int.random(in: 0..<20, using: &random) == 0 {
                return .interrupted(facts, mayHaveBeenApplied: Bool.random(using: &random))
            }
            // App code on a lent session may have committed something before this failure.
            facts.earlierWorkMayHaveTakenEffect = lendsSession && Int.random(in: 0..<4, using: &random) == 0
            return .failed(facts)
        }
    }
}

extension Duration {
    /// A random duration in `0 ... upper`, to the millisecond.
    static func random(upTo upper: Duration, using random: inout SplitMix64) -> Duration {
        .milliseconds(Int64.random(in: 0...Int64(upper / .milliseconds(1)), using: &random))
    }
}
