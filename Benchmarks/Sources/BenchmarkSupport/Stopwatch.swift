/// Times the part of a workload that counts.
public enum Stopwatch {
    /// Runs `body` and returns the seconds it took, by the monotonic clock.
    public static func seconds(_ body: () async throws -> Void) async rethrows -> Double {
        let start = ContinuousClock.now
        try await body()
        return seconds(from: start.duration(to: .now))
    }

    /// Seconds in a duration, as a Double.
    public static func seconds(from duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
