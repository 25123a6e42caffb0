import CallgrindMarkers
#if canImport(Glibc)
import Glibc
#endif

/// Times the part of a workload that counts: wall time, and the CPU time and context switches of the whole process.
public enum Stopwatch {
    /// Runs `body` and returns what it took.
    ///
    /// Under `valgrind --tool=callgrind --instr-atstart=no`, only `body` is profiled.
    public static func time(_ body: () async throws -> Void) async rethrows -> Timing {
        callgrind_markers_begin()
        defer { callgrind_markers_end() }
        let usageBefore = ResourceUsage.current()
        let start = ContinuousClock.now
        try await body()
        let seconds = seconds(from: start.duration(to: .now))
        let usage = ResourceUsage.current() - usageBefore
        return Timing(seconds: seconds, cpuSeconds: usage.cpuSeconds, contextSwitches: usage.contextSwitches)
    }

    /// Whole nanoseconds in a duration.
    public static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// Seconds in a duration, as a Double.
    public static func seconds(from duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// What the timed part of a workload took.
public struct Timing: Sendable {
    /// Wall-clock seconds, by the monotonic clock.
    public var seconds: Double
    /// User and system CPU seconds of the whole process (every thread).
    public var cpuSeconds: Double
    /// Voluntary and involuntary context switches of the whole process.
    public var contextSwitches: Int

    /// A timing measured elsewhere (in C, say).
    public init(seconds: Double, cpuSeconds: Double, contextSwitches: Int) {
        self.seconds = seconds
        self.cpuSeconds = cpuSeconds
        self.contextSwitches = contextSwitches
    }
}

/// `getrusage(RUSAGE_SELF)`: the CPU time and context switches of every thread of the process so far.
struct ResourceUsage {
    var cpuSeconds: Double
    var contextSwitches: Int

    static func current() -> ResourceUsage {
        #if canImport(Glibc)
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return ResourceUsage(cpuSeconds: 0, contextSwitches: 0) }
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return ResourceUsage(
            cpuSeconds: seconds(usage.ru_utime) + seconds(usage.ru_stime),
            contextSwitches: usage.ru_nvcsw + usage.ru_nivcsw
        )
        #else
        return ResourceUsage(cpuSeconds: 0, contextSwitches: 0)
        #endif
    }

    static func - (after: ResourceUsage, before: ResourceUsage) -> ResourceUsage {
        ResourceUsage(
            cpuSeconds: after.cpuSeconds - before.cpuSeconds,
            contextSwitches: after.contextSwitches - before.contextSwitches
        )
    }
}
