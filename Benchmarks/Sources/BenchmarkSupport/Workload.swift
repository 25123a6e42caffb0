/// One thing the benchmark measures, with its size; every system runs the same.
public enum Workload: String, CaseIterable, Codable, Sendable {
    /// 20,000 `SELECT 1`, one after the other.
    case seqSelect1 = "seq_select1"
    /// 20,000 `SELECT $1::int4 + 1`, one after the other, each answer read back as an `Int`.
    case seqParam = "seq_param"
    /// `seq_param` inside `PostgresClient.withSessionThread`, the caller on its session's I/O thread:
    /// ResilientPostgres's own, compared with the others' `seq_param`.
    case seqParamOnSessionThread = "seq_param_thread"
    /// `seq_select1` in a process whose global executor is ResilientPostgres's I/O threads
    /// (`PostgresClient.unsafeTryInstallIOThreadsAsGlobalExecutor()`), compared with the others' `seq_select1`.
    case seqSelect1OnIOThreads = "seq_select1_io"
    /// `seq_param` with the I/O threads as the global executor, compared with the others' `seq_param`.
    case seqParamOnIOThreads = "seq_param_io"
    /// `seq_param` through libpq driven from a Swift task with nothing else, each wait handed to a thread that
    /// waits on epoll and resumes the task on the global executor: what a client whose statements wait this way
    /// cannot do without. libpq only, compared with libpq's `seq_param`.
    case seqParamFloor = "seq_param_floor"
    /// `seq_param_floor` with the task on the epoll thread, its task executor: the floor of `seq_param_thread`.
    case seqParamFloorOnThread = "seq_param_floor_thread"
    /// 10,000 rows of (int4, text, timestamptz) decoded into (Int, String, Date), 50 times; counted in rows.
    case rows10k = "rows_10k"
    /// `rows_10k` with the I/O threads as the global executor, compared with the others' `rows_10k`.
    case rows10kOnIOThreads = "rows_10k_io"
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
    /// `concurrent_8` with the I/O threads as the global executor, compared with the others' `concurrent_8`.
    case concurrent8OnIOThreads = "concurrent_8_io"
    /// ResilientPostgres's per-operation retry bookkeeping alone, when nothing fails.
    case policy = "policy"
    /// 200,000 `SELECT $1::int4 + 1`, with the resident set read after 20,000 and after 200,000.
    case rssGrowth = "rss_growth"
    /// 20,000 notifications sent in one statement and received by a listening session, in order; counted in
    /// notifications.
    case listenNotify = "listen_notify"
    /// 1,000,000 rows of (int4, text of 100 bytes) read as a stream (single-row mode in C), each decoded into
    /// (Int, String); counted in rows.
    case streamRows = "stream_rows"
    /// `stream_rows` with the I/O threads as the global executor, compared with the others' `stream_rows`.
    case streamRowsOnIOThreads = "stream_rows_io"
    /// 1,000,000 rows of (int8, text) loaded with `COPY ... FROM STDIN` in text format, in chunks of 64 KiB made
    /// as they are sent; counted in rows.
    case copyIn = "copy_in"
    /// `stream_rows`'s query streamed over 100,000 rows, then over 5,000,000, with the peak resident set read after
    /// each.
    case streamRSS = "stream_rss"

    /// The statements (or rows, or policy operations) the timed part performs.
    public var operations: Int {
        if comparedWith != self { return comparedWith.operations }
        return switch self {
        case .seqSelect1, .seqParam, .pipelineParam, .concurrent8, .listenNotify: 20_000
        case .rows10k: Self.rowsPerRead * Self.reads
        case .insertTransaction: 5_000
        case .transactionPlain, .transactionVerified: 2_000
        case .policy: 2_000_000
        case .rssGrowth: Self.rssLongRun
        case .streamRows, .copyIn: Self.streamedRows
        case .streamRSS: Self.streamRSSShortRun + Self.streamRSSLongRun
        case .seqParamOnSessionThread, .seqSelect1OnIOThreads, .seqParamOnIOThreads, .concurrent8OnIOThreads,
            .rows10kOnIOThreads, .streamRowsOnIOThreads, .seqParamFloor, .seqParamFloorOnThread:
            preconditionFailure("a variant counts as the workload it is compared with")
        }
    }

    /// What one operation is, for the table.
    public var unit: String {
        switch comparedWith {
        case .rows10k, .streamRows, .copyIn, .streamRSS: "rows/s"
        case .listenNotify: "notifications/s"
        case .policy: "ns/op"
        default: "queries/s"
        }
    }

    /// The workloads the comparison table shows (the memory-growth run is reported on its own).
    public static let compared: [Workload] = [
        .seqSelect1, .seqSelect1OnIOThreads, .seqParam, .seqParamOnIOThreads, .seqParamOnSessionThread, .rows10k,
        .rows10kOnIOThreads, .pipelineParam, .insertTransaction, .transactionPlain, .transactionVerified, .concurrent8,
        .concurrent8OnIOThreads, .listenNotify, .streamRows, .streamRowsOnIOThreads, .copyIn, .policy, .seqParamFloor,
        .seqParamFloorOnThread,
    ]

    /// The workload whose medians of the other systems this one's are compared with: itself, but for a variant
    /// only ResilientPostgres runs.
    public var comparedWith: Workload {
        switch self {
        case .seqParamOnSessionThread, .seqParamOnIOThreads, .seqParamFloor, .seqParamFloorOnThread: .seqParam
        case .seqSelect1OnIOThreads: .seqSelect1
        case .concurrent8OnIOThreads: .concurrent8
        case .rows10kOnIOThreads: .rows10k
        case .streamRowsOnIOThreads: .streamRows
        default: self
        }
    }

    /// Whether ResilientPostgres runs the workload in a process whose global executor is its I/O threads.
    public var installsIOThreadsAsGlobalExecutor: Bool {
        switch self {
        case .seqSelect1OnIOThreads, .seqParamOnIOThreads, .concurrent8OnIOThreads, .rows10kOnIOThreads,
            .streamRowsOnIOThreads:
            true
        default: false
        }
    }

    /// Whether the workload is a floor: libpq driven from Swift, run by the libpq system alone and reported in a
    /// table of its own.
    public var isFloor: Bool { self == .seqParamFloor || self == .seqParamFloorOnThread }

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
    /// Rows in `stream_rows` and `copy_in`.
    public static let streamedRows = 1_000_000
    /// Rows of `stream_rss`'s first stream, after which it reads the peak resident set.
    public static let streamRSSShortRun = 100_000
    /// Rows of `stream_rss`'s second stream, after which it reads the peak resident set again.
    public static let streamRSSLongRun = 5_000_000
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
    /// verified commits are ResilientPostgres's own; the floors are libpq's).
    public func runs(_ workload: Workload) -> Bool {
        if workload == .listenNotify { return self != .postgresNIO }
        if workload.isFloor { return self == .libpq }
        let ownWorkloads: [Workload] = [.policy, .transactionPlain, .transactionVerified]
        return workload.comparedWith == workload && !ownWorkloads.contains(workload) || self == .resilientPostgres
    }
}
