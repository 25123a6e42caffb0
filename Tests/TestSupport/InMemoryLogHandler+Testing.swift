import InMemoryLogging
import Logging

extension Logger {
    /// A logger that keeps every record, from `trace` up, in `handler`, for a test that checks what was logged.
    public static func inMemory(_ handler: InMemoryLogHandler, label: String = "ResilientPostgres") -> Logger {
        var logger = Logger(label: label) { _ in handler }
        logger.logLevel = .trace
        return logger
    }

    /// A logger for a test's clients, which retry on purpose: nothing reaches the console; the records go into the
    /// test's captured log, printed only when the test fails (see ``Trait/capturingLogs``).
    public static var quiet: Logger {
        Logger(label: "ResilientPostgres")
    }
}

extension InMemoryLogHandler.Entry {
    /// The metadata values as text, with the error logged with the record, if any, under `error`.
    public var fields: [String: String] {
        var fields = metadata.mapValues { "\($0)" }
        if let error { fields["error"] = "\(error)" }
        return fields
    }

    /// The message, then every field as `key=value`, in key order, in one line.
    public var text: String {
        ([message.description] + fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
            .joined(separator: " ")
    }
}
