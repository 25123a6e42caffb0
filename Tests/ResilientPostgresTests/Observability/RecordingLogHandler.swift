import Logging
import Synchronization

/// A swift-log handler that keeps every record in memory, for tests that check what a client logs.
struct RecordingLogHandler: LogHandler {
    /// One log call: its level, message and metadata (the handler's merged with the call's, and the error logged
    /// with it, if any), as rendered text.
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]

        /// The message and every metadata key and value, in one line.
        var text: String {
            ([message] + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }).joined(separator: " ")
        }
    }

    /// Where the records go; shared by every copy of the handler (a `Logger` copies its handler freely).
    final class Store: Sendable {
        private let records = Mutex<[Record]>([])

        /// The records so far, in order.
        var all: [Record] { records.withLock { $0 } }

        fileprivate func append(_ record: Record) {
            records.withLock { $0.append(record) }
        }
    }

    let store: Store
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    /// A logger that records everything, from `trace` up, into `store`.
    static func logger(label: String = "ResilientPostgres", into store: Store) -> Logger {
        Logger(label: label) { _ in RecordingLogHandler(store: store) }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata.merging(event.metadata ?? [:]) { $1 }.mapValues { "\($0)" }
        if let error = event.error { merged["error"] = "\(error)" }
        store.append(Record(level: event.level, message: event.message.description, metadata: merged))
    }
}

extension Logger {
    /// A logger that drops everything: the clients of most tests retry on purpose, and their logs would bury a
    /// failure's output.
    static let quiet = Logger(label: "tests", factory: { _ in SwiftLogNoOpLogHandler() })
}
