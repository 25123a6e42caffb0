import InMemoryLogging
import Logging

/// Where a test's logging goes while it runs: swift-log's global system is bootstrapped, once per test process, with
/// a handler that writes into the log of the test running in the calling task, kept in memory.
///
/// A logger made while a test runs (the library's default, `Logger(label: "ResilientPostgres")`, or ``Logger/quiet``)
/// also remembers that test's log, for records written where no test's task is current: on an I/O thread, or after
/// the test has returned. Records with no test at all go to standard error, as swift-log's default would send them.
enum TestLog {
    /// The log of the test running in this task (set by ``CapturingLogsTrait``).
    @TaskLocal static var current: InMemoryLogHandler?

    /// Routes swift-log to ``current``. Runs once; swift-log allows only one bootstrap per process.
    static let bootstrapped: Void = LoggingSystem.bootstrap { label in
        RoutingLogHandler(madeDuring: current, fallback: StreamLogHandler.standardError(label: label))
    }

    /// Renders a test's records, one line each: level, message, then metadata and error.
    static func render(_ entries: [InMemoryLogHandler.Entry]) -> String {
        entries.map { "\($0.level) \($0.text)" }.joined(separator: "\n")
    }
}

/// Writes each record into the current test's log, else into the log of the test it was made in, else to `fallback`.
private struct RoutingLogHandler: LogHandler {
    let madeDuring: InMemoryLogHandler?
    var fallback: StreamLogHandler
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    init(madeDuring: InMemoryLogHandler?, fallback: StreamLogHandler) {
        self.madeDuring = madeDuring
        self.fallback = fallback
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        guard var log = TestLog.current ?? madeDuring else {
            var fallback = fallback
            fallback.metadata = metadata
            fallback.log(event: event)
            return
        }
        log.metadata = metadata
        log.logLevel = .trace
        log.log(event: event)
    }
}
