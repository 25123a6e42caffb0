/// A client library that can run the workloads.
///
/// `run` opens what it needs and warms it up untimed, then times only the workload itself.
public protocol BenchmarkSystem: Sendable {
    /// Runs one workload once.
    ///
    /// - Throws: ``WorkloadUnavailable`` when the system cannot run the workload in this build; ``WrongAnswer``
    ///   when the server's answers are not what the workload expects; the system's own errors.
    func run(_ workload: Workload) async throws -> WorkloadRun
}

/// What a system reports for one run of a workload.
public struct WorkloadRun: Sendable {
    /// The operations the timed part performed.
    public var operations: Int
    /// The seconds the timed part took.
    public var seconds: Double
    /// The process's CPU seconds (user and system, every thread) during the timed part, when measured.
    public var cpuSeconds: Double?
    /// The process's context switches during the timed part, when measured.
    public var contextSwitches: Int?
    /// For `rss_growth`: the resident set after the short run, in KiB.
    public var rssAfterShortRunKiB: Int?
    /// For `rss_growth`: the resident set after the long run, in KiB.
    public var rssAfterLongRunKiB: Int?

    /// A run timed by ``Stopwatch``.
    public init(operations: Int, timing: Timing, rssAfterShortRunKiB: Int? = nil, rssAfterLongRunKiB: Int? = nil) {
        self.operations = operations
        self.seconds = timing.seconds
        self.cpuSeconds = timing.cpuSeconds
        self.contextSwitches = timing.contextSwitches
        self.rssAfterShortRunKiB = rssAfterShortRunKiB
        self.rssAfterLongRunKiB = rssAfterLongRunKiB
    }

    /// A run timed elsewhere (inside C), with wall time only.
    public init(operations: Int, seconds: Double) {
        self.operations = operations
        self.seconds = seconds
    }
}

/// The server answered something other than what the workload expects.
public struct WrongAnswer: Error, CustomStringConvertible {
    /// What was expected and what came.
    public let description: String
    /// An error that says `description`.
    public init(_ description: String) { self.description = description }
}

/// Keeps a value alive and opaque to the optimizer, so that the work that produced it is not removed.
@_optimize(none)
public func blackHole<Value>(_ value: Value) {}

/// The sum of ids 1...rowsPerRead, which every decoded read of `bench_rows` must reproduce.
public let expectedRowIDSum = Workload.rowsPerRead * (Workload.rowsPerRead + 1) / 2

/// The statements that create the benchmark's tables (`bench_rows` with 10,000 rows, an empty `bench_insert`),
/// each to be run on its own (VACUUM cannot run in the implicit transaction of a multi-statement string).
public let benchmarkSchemaSQL = [
    "SET client_min_messages = warning",
    "DROP TABLE IF EXISTS bench_rows, bench_insert",
    "CREATE TABLE bench_rows (id int4 NOT NULL, name text NOT NULL, created timestamptz NOT NULL)",
    """
    INSERT INTO bench_rows
        SELECT i, md5(i::text), timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second'
        FROM generate_series(1, \(Workload.rowsPerRead)) AS i
    """,
    "CREATE TABLE bench_insert (id int8 NOT NULL, name text NOT NULL)",
    "VACUUM ANALYZE bench_rows",
]
