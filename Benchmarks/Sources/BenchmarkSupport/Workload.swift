/// One thing the benchmark measures, with its size; every system runs the same.
public enum Workload: String, CaseIterable, Codable, Sendable {
    /// 20,000 `SELECT 1`, one after the other.
    case seqSelect1 = "seq_select1"
    /// 20,000 `SELECT $1::int4 + 1`, one after the other, each answer read back as an `Int`.
    case seqParam = "seq_param"
    /// `seq_param` inside `PostgresClient.withSessionThread`, the caller on its session's I/O thread:
    /// ResilientPostgres's own, compared with the others' `seq_param`.
    case seqParamOnSessionThread = "seq_param_thread"
    /// 10,000 rows of (int4, text, timestamptz) decoded into (Int, String, Date), 50 times; counted in rows.
    case rows10k = "rows_10k"
    /// 20,000 `SELECT $1::int4 + 1` sent together on one connection (a pipeline where the system has one).
    case pipelineParam = "pipeline_param"
    /// 5,000 INSERTs inside one transaction.
    case insertTransaction = "insert_tx"
    /// 2,000 transactions of one INSERT each: ResilientPostgres's `transaction`, the baseline of `tx_verified`.
    case transactionPlain = "tx_plain"
    /// `tx_plain` with `OperationOptions.verifiedCommit`: each transaction also writes its commit marker.
    case transactionVerified = "tx_verified"
    /// 20,000 `SELECT $1::int4 + 1` from 8 concurrent tasks (threads in C), 8 connections.
    case concurrent8 = "concurrent_8"
    /// ResilientPostgres's per-operation retry bookkeeping alone, when nothing fails.
    case policy = "policy"
    /// 200,000 `SELECT $1::int4 + 1`, with the resident set read after 20,000 and after 200,000.
    case rssGrowth = "rss_growth"

    /// The statements (or rows, or policy operations) the timed part performs.
    public var operations: Int {
        switch self {
        case .seqSelect1, .seqParam, .seqParamOnSessionThread, .pipelineParam, .concurrent8: 20_000
        case .rows10k: Self.rowsPerRead * Self.reads
        case .insertTransaction: 5_000
        case .transactionPlain, .transactionVerified: 2_000
        case .policy: 2_000_000
        case .rssGrowth: Self.rssLongRun
        }
    }

    /// What one operation is, for the table.
    public var unit: String {
        switch self {
        case .rows10k: "rows/s"
        case .policy: "ns/op"
        default: "queries/s"
        }
    }

    /// The workloads the comparison table shows (the memory-growth run is reported on its own).
    public static let compared: [Workload] = [
        .seqSelect1, .seqParam, .seqParamOnSessionThread, .rows10k, .pipelineParam, .insertTransaction,
        .transactionPlain, .transactionVerified, .concurrent8, .policy,
    ]

    /// The workload whose medians of the other systems this one's are compared with: itself, but for a variant
    /// only ResilientPostgres runs.
    public var comparedWith: Workload {
        self == .seqParamOnSessionThread ? .seqParam : self
    }

    /// Rows in `bench_rows`.
    public static let rowsPerRead = 10_000
    /// How many times `rows_10k` reads the table.
    public static let reads = 50
    /// Concurrent tasks (threads, connections) in `concurrent_8`.
    public static let concurrency = 8
    /// Queries after which `rss_growth` takes its first reading.
    public static let rssShortRun = 20_000
    /// Queries after which `rss_growth` takes its second reading.
    public static let rssLongRun = 200_000
    /// Untimed queries each child runs first, to open its connections and warm its caches.
    public static let warmupQueries = 1_000
}

/// A client library under measurement.
public enum SystemName: String, CaseIterable, Codable, Sendable {
    /// libpq called from C: the baseline.
    case libpq = "libpq"
    /// postgres-nio, the Swift PostgreSQL client on SwiftNIO.
    case postgresNIO = "postgres-nio"
    /// This library.
    case resilientPostgres = "ResilientPostgres"

    /// Whether the system runs `workload` at all (the policy bookkeeping, the session-thread variant and the
    /// verified commits are ResilientPostgres's own).
    public func runs(_ workload: Workload) -> Bool {
        let ownWorkloads: [Workload] = [.policy, .transactionPlain, .transactionVerified]
        return workload.comparedWith == workload && !ownWorkloads.contains(workload) || self == .resilientPostgres
    }
}
