import Synchronization

/// A token bucket shared by every operation of one client, which stops retries when most attempts fail.
///
/// Retries are allowed while more than half the tokens remain. Each failure of a class that
/// ``ErrorClass/spendsRetryToken`` takes one token; each success gives back ``tokenRatio``. When failures outrun
/// successes (more than about one in `1 + 1/tokenRatio` attempts failing), retries stop multiplying the load on a
/// struggling server, and operations fail with ``RetryDecision/Reason/throttled`` until successes refill the bucket.
/// The same scheme as gRPC's retry throttling and the AWS SDKs' retry quota.
///
/// Thread-safe; recording a success takes one uncontended lock and never allocates.
public final class RetryThrottle: Sendable {
    // Tokens are kept in thousandths so the arithmetic is exact integers.
    private let scaledTokens: Mutex<Int>
    private let scaledMaxTokens: Int
    private let scaledTokenRatio: Int
    private let scaledThreshold: Int

    /// Creates a full bucket.
    ///
    /// The defaults absorb about 25 failures at once (a pool's connections all dropped by one restart) before
    /// retries stop, and let them resume after a handful of successes.
    ///
    /// - Parameters:
    ///   - maxTokens: the bucket's size, 1 to 1000.
    ///   - tokenRatio: tokens a success gives back, at least 0.001 (three decimals are kept).
    public init(maxTokens: Int = 50, tokenRatio: Double = 0.2) {
        precondition((1...1000).contains(maxTokens), "maxTokens must be in 1...1000 (is \(maxTokens))")
        let scaledTokenRatio = Int((tokenRatio * 1000).rounded())
        precondition(scaledTokenRatio > 0, "tokenRatio must be at least 0.001 (is \(tokenRatio))")
        self.scaledMaxTokens = maxTokens * 1000
        self.scaledTokenRatio = scaledTokenRatio
        self.scaledThreshold = maxTokens * 1000 / 2
        self.scaledTokens = Mutex(maxTokens * 1000)
    }

    /// The bucket's size.
    public var maxTokens: Int { scaledMaxTokens / 1000 }

    /// The tokens a success gives back.
    public var tokenRatio: Double { Double(scaledTokenRatio) / 1000 }

    /// The tokens in the bucket now.
    public var tokens: Double { scaledTokens.withLock { Double($0) / 1000 } }

    /// Whether retries are allowed now: more than half the tokens remain.
    public var isRetryPermitted: Bool { scaledTokens.withLock { $0 > scaledThreshold } }

    /// Records a successful attempt, giving back ``tokenRatio`` tokens up to ``maxTokens``.
    public func recordSuccess() {
        scaledTokens.withLock { tokens in
            if tokens < scaledMaxTokens {
                tokens = min(scaledMaxTokens, tokens &+ scaledTokenRatio)
            }
        }
    }

    /// Records a failed attempt, taking one token.
    ///
    /// - Returns: whether retries are still allowed afterwards.
    @discardableResult
    public func recordFailure() -> Bool {
        scaledTokens.withLock { tokens in
            tokens = max(0, tokens &- 1000)
            return tokens > scaledThreshold
        }
    }
}
