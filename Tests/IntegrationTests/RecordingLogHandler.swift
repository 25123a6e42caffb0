import Logging
import Synchronization

/// Keeps what a client logs, so that a test can wait for a retry and read how the failure was classified.
final class LogRecord: Sendable {
    struct Entry: Sendable {
        var message: String
        var metadata: [String: String]
    }

    private let entries = Mutex<[Entry]>([])

    /// A logger that records into this record.
    var logger: Logger {
        Logger(label: "IntegrationTests") { _ in RecordingLogHandler(record: self) }
    }

    func append(_ entry: Entry) {
        entries.withLock { $0.append(entry) }
    }

    /// The classes (`postgres.class`) of the failures the client retried, in order.
    var retriedClasses: [String] {
        entries.withLock { $0.filter { $0.message == "retrying" }.compactMap { $0.metadata["postgres.class"] } }
    }

    /// Waits until the client has retried at least once (about 10 s at most); false when it never did.
    func waitForRetry() async throws -> Bool {
        for _ in 0..<200 {
            if !retriedClasses.isEmpty { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}

private struct RecordingLogHandler: LogHandler {
    let record: LogRecord
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let fields = metadata.merging(event.metadata ?? [:]) { $1 }
        record.append(LogRecord.Entry(
            message: event.message.description,
            metadata: fields.mapValues { "\($0)" }
        ))
    }
}

extension Logger {
    /// A logger that drops everything: the clients of most tests retry on purpose, and their logs would bury a
    /// failure's output.
    static let quiet = Logger(label: "tests", factory: { _ in SwiftLogNoOpLogHandler() })
}
