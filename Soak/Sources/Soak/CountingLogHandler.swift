import Logging
import Synchronization

/// A swift-log handler that only counts the client's log records, by level and message, to keep the soak's output
/// readable while still reporting how much the client logged.
struct CountingLogHandler: LogHandler {
    final class Counts: Sendable {
        private let counts = Mutex<[String: Int]>([:])

        fileprivate func add(_ key: String) {
            counts.withLock { $0[key, default: 0] += 1 }
        }

        /// `level message` and how many times it was logged.
        var all: [String: Int] { counts.withLock { $0 } }
    }

    let counts: Counts
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        counts.add("\(event.level) \(event.message)")
    }
}
